"""Format version 1, written by vaezip 0.1 (docs/format.md): fixed-width fields.

What sets it apart from later versions: a 40-byte preamble (magic, version,
flags, writer version, a reserved field, file and header sizes, then its
CRC); counts and sizes as little-endian integers of a fixed width per field
(``fmt`` "H", "I" or "Q"); image entries that repeat their mode's channels and
bit depth; a reserved codec field; the whole sha256 of the weights
(``WEIGHTS_ID_SIZE[1]``). ``Header(version=1)`` still writes it.

Every version module offers the same names (``vaezip.format`` picks one by
the file's version): the sizes of the smallest records, ``number`` /
``read_number``, ``codec_counts`` / ``read_codec_counts``, ``mode_bytes`` /
``check_mode_bytes`` and ``pack_preamble`` / ``read_preamble``.
"""

from __future__ import annotations

import struct
import zlib

from vaezip.format.checks import check_version
from vaezip.format.errors import CorruptError, TruncatedError, require
from vaezip.format.fields import U32
from vaezip.format.records import MAGIC, MODES, WEIGHTS_ID_SIZE, Header, Preamble

VERSION = 1
PREAMBLE_SIZE = 40
_PREAMBLE = struct.Struct("<12sHHHHHHQI")  # without its CRC
_ENTRY = struct.Struct("<IIIBBBBB")
_STREAM = struct.Struct("<IQI")
# the smallest image entry and stream entry, and the smallest header body: a one-letter
# model name, the weights id, the codec parameters (12 bytes), no images, no streams
SMALLEST_ENTRY, SMALLEST_STREAM = _ENTRY.size, _STREAM.size
SMALLEST_BODY = 2 + WEIGHTS_ID_SIZE[VERSION] + 12 + 4 + 4
CODED_NAMES = False  # names are written in their entries, a length byte and the bytes each


def number(value: int, fmt: str) -> bytes:
    """A count or size in the fixed width ``fmt`` ("H", "I", "Q")."""
    return struct.pack("<" + fmt, value)


def read_number(cur, fmt: str) -> int:
    return cur.unpack(struct.Struct("<" + fmt))[0]


def codec_counts(header: Header) -> bytes:
    """Particles, the reserved field and the batch size."""
    return struct.pack("<HHI", header.particles, 0, header.batch_size)


def read_codec_counts(cur) -> tuple[int, int]:
    particles = cur.number("H")
    require(cur.number("H") == 0, "a reserved codec field is not zero")
    return particles, cur.number("I")


def mode_bytes(mode_id: int) -> bytes:
    """The mode, then its channels and bit depth (version 1 repeats what the mode says)."""
    _, channels, bit_depth = MODES[mode_id]
    return bytes([mode_id, channels, bit_depth])


def check_mode_bytes(cur, mode_id: int) -> None:
    """Read the channels and bit depth that follow the mode, and check they are the mode's."""
    mode, want_channels, want_depth = MODES[mode_id]
    channels, bit_depth = cur.byte(), cur.byte()
    require(
        (channels, bit_depth) == (want_channels, want_depth),
        f"mode {mode} has {want_channels} channels of {want_depth} bits, not {channels} of {bit_depth}",
    )


def pack_preamble(header: Header, body_size: int, payload_size: int) -> bytes:
    """The preamble without its CRC, for the header and file sizes that follow from it."""
    header_size = PREAMBLE_SIZE + body_size + 4
    file_size = header_size + payload_size + 4
    return _PREAMBLE.pack(MAGIC, 1, header.flags, *header.writer, 0, file_size, header_size)


def read_preamble(data) -> Preamble:
    if len(data) < PREAMBLE_SIZE:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its {PREAMBLE_SIZE}-byte preamble")
    fields = _PREAMBLE.unpack_from(data, 0)
    (stored_crc,) = U32.unpack_from(data, _PREAMBLE.size)
    if zlib.crc32(data[: _PREAMBLE.size]) != stored_crc:
        raise CorruptError("the preamble CRC does not match: the file is corrupt; restore it from a good copy")
    _, version, flags, major, minor, patch, _, file_size, header_size = fields
    writer = (major, minor, patch)
    check_version(version, flags, writer)
    return Preamble(version, writer, file_size, header_size, PREAMBLE_SIZE)
