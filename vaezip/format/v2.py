"""Format version 2, written by default since vaezip 0.2 (docs/format.md, "Version 2").

What sets it apart from version 1: a packed preamble (magic, version and
flags, then the writer version and the file and header sizes as varints,
then its CRC), every count and size as an LEB128 varint in its shortest
form, no channels and bit-depth bytes beside an entry's mode, no reserved
codec field, and a 16-byte weights id (the first half of the sha256). The
preamble's layout up to the flags is the one every later version keeps, so
a later file is recognised and refused with its version named.

The names are those of every version module (see ``vaezip.format.v1``).
"""

from __future__ import annotations

import struct
import zlib

from vaezip.format.checks import check_version
from vaezip.format.errors import CorruptError, Invalid, Short, TruncatedError
from vaezip.format.fields import U32, Cursor, varint
from vaezip.format.records import MAGIC, WEIGHTS_ID_SIZE, Header, Preamble

VERSION = 2
LEAD = struct.Struct("<12sHB")  # version 2 and later: magic, format_version, flags
# the smallest image entry (count, height, width, mode, coder, flags) and stream entry
# (image count, word count, fillers), and the smallest header body: a one-letter model
# name, the weights id, the codec parameters (6 bytes), no images, no streams
SMALLEST_ENTRY, SMALLEST_STREAM = 6, 3
SMALLEST_BODY = 2 + WEIGHTS_ID_SIZE[VERSION] + 6 + 1 + 1
CODED_NAMES = False  # names are written in their entries, as in version 1


def number(value: int, fmt: str) -> bytes:
    """A count or size as a varint (``fmt``, its width in version 1, is not used)."""
    return varint(value)


def read_number(cur, fmt: str) -> int:
    return cur.varint()


def codec_counts(header: Header) -> bytes:
    """Particles and the batch size."""
    return varint(header.particles) + varint(header.batch_size)


def read_codec_counts(cur) -> tuple[int, int]:
    return cur.number("H"), cur.number("I")


def mode_bytes(mode_id: int) -> bytes:
    return bytes([mode_id])


def check_mode_bytes(cur, mode_id: int) -> None:
    """Nothing follows the mode in version 2."""


def pack_preamble(header: Header, body_size: int, payload_size: int) -> bytes:
    """The preamble without its CRC, for the header and file sizes that follow from it."""
    lead = LEAD.pack(MAGIC, header.version, header.flags) + b"".join(varint(v) for v in header.writer)
    sizes = 2  # bytes of the two size varints: grow it until the sizes fit in it
    while True:
        header_size = len(lead) + sizes + 4 + body_size + 4
        file_size = header_size + payload_size + 4
        tail = varint(file_size) + varint(header_size)
        if len(tail) == sizes:
            return lead + tail
        sizes = len(tail)


def read_preamble(data) -> Preamble:
    """The preamble of version 2 or any later version (whose version ``check_version`` then refuses)."""
    (version,) = struct.unpack_from("<H", data, len(MAGIC))
    cur = Cursor(data, LEAD.size - 1, len(data))
    try:
        flags = cur.byte()
        writer = (cur.varint(), cur.varint(), cur.varint())
        file_size, header_size = cur.varint(), cur.varint()
        (stored_crc,) = cur.unpack(U32)
    except Short:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its preamble") from None
    except Invalid as error:
        raise CorruptError(f"the preamble is corrupt ({error}): restore the file from a good copy") from None
    if zlib.crc32(data[: cur.pos - 4]) != stored_crc:
        raise CorruptError("the preamble CRC does not match: the file is corrupt; restore it from a good copy")
    check_version(version, flags, writer)
    return Preamble(version, writer, file_size, header_size, cur.pos)
