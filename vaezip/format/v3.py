"""Format version 3, written by default since vaezip 0.3 (docs/format.md, "Version 3").

A version-3 file is coded with a model's *integer network* (``.vzn``,
``docs/format.md``, "Integer networks"): its weights id is the first 16
bytes of that file's sha256, and its encoder, decoder and causal head are
evaluated exactly as the spec says, so the file decodes on any machine.
Versions 1 and 2 ran the float32 networks through the reader's torch
kernels and decode only where those give the writer's results.

Its bytes come in two forms. A file of several images (or none) is laid out
as version 2's, except that the names of the images are not written in
their entries but in one coded name table after the image table
(``CODED_NAMES``; ``vaezip.format.names``). A file of exactly one image in
one stream is written in the one-image form (``vaezip.format.compact``):
a 4-byte signature, no stream table, an 8-byte pixel checksum and one CRC.

The names are those of every version module (see ``vaezip.format.v1``).
"""

from __future__ import annotations

from vaezip.format.records import WEIGHTS_ID_SIZE
from vaezip.format.v2 import (  # noqa: F401 - these names are as in version 2
    LEAD, SMALLEST_ENTRY, SMALLEST_STREAM, check_mode_bytes, codec_counts, mode_bytes, number, pack_preamble,
    read_codec_counts, read_number, read_preamble,
)

VERSION = 3
SMALLEST_BODY = 2 + WEIGHTS_ID_SIZE[VERSION] + 6 + 1 + 1
CODED_NAMES = True  # the names of every named entry in one name table, after the image table
