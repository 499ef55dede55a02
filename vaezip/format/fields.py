"""The byte-level fields every format version is made of: fixed-width integers and LEB128 varints.

``varint`` writes a number as an unsigned LEB128 varint; ``Cursor`` reads
fields from a slice of the file, checking every length against the end of
the slice first, and reads counts and sizes the way its format version
writes them (``layout.read_number``).
"""

from __future__ import annotations

import struct

from vaezip.format.errors import Invalid, Short, require

U8, U32 = struct.Struct("<B"), struct.Struct("<I")
MAX_VARINT = 10  # bytes of a LEB128 number below 2**64


def varint(value: int) -> bytes:
    """``value`` as an unsigned LEB128 number: 7 bits a byte, low bits first, in its shortest form."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Cursor:
    """Reads fields from ``data[pos:end]``, checking every length against ``end`` first.

    ``layout`` (the module of the file's format version, ``vaezip.format.v1``
    or ``v2``) says how counts and sizes are written; None reads neither.
    """

    def __init__(self, data, pos: int, end: int, layout=None):
        self.data, self.pos, self.end, self.layout = data, pos, end, layout

    def remaining(self) -> int:
        return self.end - self.pos

    def _need(self, size: int) -> None:
        if not 0 <= size <= self.remaining():
            raise Short("a header field runs past the end of the header")

    def unpack(self, record: struct.Struct) -> tuple:
        self._need(record.size)
        values = record.unpack_from(self.data, self.pos)
        self.pos += record.size
        return values

    def take(self, size: int) -> bytes:
        self._need(size)
        chunk = bytes(self.data[self.pos : self.pos + size])
        self.pos += size
        return chunk

    def byte(self) -> int:
        self._need(1)
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        value = 0
        for i in range(MAX_VARINT):
            byte = self.byte()
            value |= (byte & 0x7F) << (7 * i)
            if byte < 0x80:
                require(byte or i == 0, "a number is not written in its shortest form")
                require(value < 1 << 64, "a number is 2**64 or more")
                return value
        raise Invalid(f"a number runs over {MAX_VARINT} bytes")

    def number(self, fmt: str) -> int:
        """A count or size, as the format version writes it (``fmt``: its fixed width in version 1)."""
        return self.layout.read_number(self, fmt)
