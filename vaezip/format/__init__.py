"""The .vz container, format versions 1 to 3: see ``docs/format.md``, the normative spec.

A .vz file is a preamble, a header (model, codec parameters, image table,
checksum table, stream table, header CRC), the payload (every stream's uint32
words) and a CRC-32 of everything before it. ``write`` writes the header's
version: 3 by default (laid out as version 2: counts and sizes as LEB128
varints, a 16-byte weights id, which in version 3 names the model's integer
network; the names in one coded name table; a file of one image in one
stream in the compact one-image form), or 2, or 1 (fixed-width fields, a
40-byte preamble, the whole sha256); ``read`` reads all three. This package
only packs and unpacks; it never codes pixels.

Reading validates every field before anything is allocated: a length is
compared with the bytes that remain before it is used, and counts are capped
(``MAX_IMAGES``, ``MAX_PIXELS``, ``MAX_STREAMS``, ``MAX_SIDE``). Bad input
raises one of

- ``TruncatedError``: the file ends before its declared size;
- ``CorruptError``: not a .vz file, a CRC mismatch, or a field out of range;
- ``VersionError``: a later format version (the message names the vaezip
  version that wrote it).

All three are ``ContainerError``, itself a ``ValueError``. Only numpy and the
standard library are imported.

Where things are: ``records`` (the dataclasses and field constants shared by
every version), ``checks`` (what every field must satisfy), ``checksum`` (the
pixel checksum), ``fields`` (varints and the bounds-checked cursor), ``body``
(the header's records after the preamble), ``names`` (version 3's name
table), ``compact`` (version 3's one-image form), and one module per format
version (``v1``, ``v2``, ``v3``: the preamble and what else that version
writes its own way).
A new version is a new module with the same names, an entry in ``LAYOUTS``,
and ``FORMAT_VERSION`` raised.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from vaezip.format import compact, v1, v2, v3
from vaezip.format.body import pack_body, parse_body
from vaezip.format.checks import (
    check_entry, check_header, check_magic, check_totals, check_whole_file, stream_words,
)
from vaezip.format.checksum import pixel_checksum
from vaezip.format.errors import ContainerError, CorruptError, Invalid, TruncatedError, VersionError, corrupt
from vaezip.format.fields import U32
from vaezip.format.records import (  # the records and constants, re-exported
    BB_ANS, BB_CIS, BB_IS, CHECKSUM_SIZE, CODER_MODEL_FREE, COMPACT_MAGIC, CODER_PER_TILE, CODER_STORED, CODER_VAE, CODERS,
    ESTIMATORS, FORMAT_VERSION, KEY_CHANNELS, MAGIC, MAX_BATCH, MAX_IMAGE_NAME, MAX_IMAGES, MAX_MODEL_NAME,
    MAX_PARTICLES, MAX_PIXELS, MAX_PRECISION, MAX_SIDE, MAX_STREAMS, MODE_IDS, MODEL_FREE, MODES,
    PNG_BIT_DEPTHS, SHORT_CHECKSUM_SIZE, TILE_CODERS, WEIGHTS_ID_SIZE, Archive, Contents, Header, ImageEntry, Preamble, Stream,
    StreamEntry, weights_id,
)

LAYOUTS = {1: v1, 2: v2, 3: v3}  # format version -> the module that reads and writes what is its own

__all__ = [
    "read", "read_header", "write", "pixel_checksum", "weights_id",
    "Archive", "Contents", "Header", "ImageEntry", "Stream", "StreamEntry",
    "ContainerError", "CorruptError", "TruncatedError", "VersionError",
    "FORMAT_VERSION", "MAGIC", "COMPACT_MAGIC", "WEIGHTS_ID_SIZE", "CHECKSUM_SIZE", "SHORT_CHECKSUM_SIZE",
    "MODEL_FREE",
    "MAX_IMAGES", "MAX_PIXELS", "MAX_STREAMS", "MAX_SIDE", "MAX_MODEL_NAME", "MAX_IMAGE_NAME",
    "MAX_PRECISION", "MAX_PARTICLES", "MAX_BATCH",
    "BB_ANS", "BB_IS", "BB_CIS", "ESTIMATORS",
    "CODER_VAE", "CODER_MODEL_FREE", "CODER_STORED", "CODER_PER_TILE", "CODERS", "TILE_CODERS",
    "MODES", "MODE_IDS", "PNG_BIT_DEPTHS", "KEY_CHANNELS",
]


def write(archive: Archive) -> bytes:
    """The .vz bytes of ``archive`` in its header's format version; raises ValueError for an invalid archive."""
    one_image = compact.fits(archive)
    try:
        check_header(archive.header)
        model_free = archive.header.model == MODEL_FREE
        for entry in archive.images:
            check_entry(entry, model_free)
        payload = [stream_words(stream).tobytes() for stream in archive.streams]
        short = one_image and all(len(c) == SHORT_CHECKSUM_SIZE for c in archive.checksums)
        check_totals(archive.images, [s.entry for s in archive.streams], archive.checksums,
                     SHORT_CHECKSUM_SIZE if short else CHECKSUM_SIZE)
    except Invalid as error:
        raise ValueError(f"cannot write this archive: {error}") from None
    if one_image:
        return compact.pack(archive, payload[0])
    layout = LAYOUTS[archive.header.version]
    body = pack_body(archive, layout)
    preamble = layout.pack_preamble(archive.header, len(body), sum(len(p) for p in payload))
    head = preamble + U32.pack(zlib.crc32(preamble)) + body
    head += U32.pack(zlib.crc32(head))
    data = b"".join([head, *payload])
    return data + U32.pack(zlib.crc32(data))


def _read_preamble(data) -> Preamble:
    """Check preamble CRC, version and flags (docs/format.md, "Preamble"), the signature checked."""
    if len(data) < v2.LEAD.size:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its preamble")
    (version,) = struct.unpack_from("<H", data, len(MAGIC))
    if version == 0:
        raise CorruptError("format version 0 does not exist: the file is corrupt or was not written by vaezip")
    # version 2's preamble starts the way every later version's does: it reads them, and refuses them
    preamble = v1.read_preamble(data) if version == 1 else v2.read_preamble(data)
    smallest = preamble.size + LAYOUTS[preamble.version].SMALLEST_BODY + 4  # and the header CRC
    if not smallest <= preamble.header_size <= preamble.file_size - 4:
        raise CorruptError(
            f"header size {preamble.header_size} does not fit file size {preamble.file_size}: the file is corrupt "
            "or was not written by vaezip"
        )
    return preamble


def read_header(data) -> Contents:
    """Header, image table, checksums and stream table, without reading the payload.

    ``data`` may be the whole file or any prefix that holds the header
    (``header_size`` bytes). Checks the preamble and header CRCs, not the
    payload's; ``read`` checks everything. A one-image file (version 3) has
    one CRC, over all of it: it is read whole, and ``header_size`` is where
    its payload starts.
    """
    data = memoryview(data).cast("B")
    if check_magic(data):
        return compact.read(data)
    preamble = _read_preamble(data)
    header_size = preamble.header_size
    if len(data) < header_size:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its {header_size}-byte header")
    (stored_crc,) = U32.unpack_from(data, header_size - 4)
    if zlib.crc32(data[: header_size - 4]) != stored_crc:
        raise CorruptError("the header CRC does not match: the file is corrupt; restore it from a good copy")
    try:
        return parse_body(data, preamble, LAYOUTS[preamble.version])
    except Invalid as error:
        raise corrupt(error) from None


def read(data) -> Archive:
    """The archive in .vz bytes ``data`` (docs/format.md), every field and CRC checked first."""
    data = memoryview(data).cast("B")
    if check_magic(data):
        contents = compact.read(data)
        return _archive(data, contents, contents.header_size)
    preamble = _read_preamble(data)
    file_size, header_size = preamble.file_size, preamble.header_size
    check_whole_file(data, file_size)
    return _archive(data, read_header(data), header_size)


def _archive(data, contents: Contents, offset: int) -> Archive:
    """The archive of ``contents`` whose payload starts at ``offset`` in ``data``."""
    streams = []
    for entry in contents.streams:
        words = np.frombuffer(data, dtype="<u4", count=entry.word_count, offset=offset).astype(np.uint32)
        offset += 4 * entry.word_count
        if words[-1] == 0:
            raise corrupt(Invalid("a stream's final state is below 2**32"))
        streams.append(Stream(words, entry.fillers, entry.image_count))
    return Archive(contents.header, contents.images, streams, contents.checksums)
