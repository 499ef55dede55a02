"""The coded name table of format version 3 (docs/format.md, "Name table").

A version-3 file stores the names of its images in one table, coded in two
steps. A *transform* turns the names into bytes: either the names joined by
a line feed (``JOINED``: no name holds a control character), or *records*
(``RECORDS``) that say how each name follows from the one before it: a run
of names each of which is the previous name with its last decimal number
incremented (``img_00017.png`` after ``img_00016.png``, ``10.png`` after
``9.png``), or the length of the prefix it shares with the previous name and
the bytes that follow. A general-purpose *compressor* then packs those
bytes: none, raw deflate (RFC 1951) or a raw LZMA2 stream. The writer tries
them all and keeps the smallest; the reader caps what it unpacks at what
the table's name count allows, before decompressing.
"""

from __future__ import annotations

import lzma
import re
import zlib

from vaezip.format.errors import Invalid, require
from vaezip.format.fields import Cursor, varint
from vaezip.format.records import MAX_IMAGE_NAME

JOINED, RECORDS = 0, 1  # transforms (the method byte's high nibble)
STORED, DEFLATE, LZMA2 = 0, 1, 2  # compressors (its low nibble)
SEPARATOR = b"\n"
# The raw LZMA2 stream's one filter: its dictionary is all a decoder needs (2**20 bytes).
LZMA_DICT_SIZE = 1 << 20
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "dict_size": LZMA_DICT_SIZE}]
# Transformed bytes a name may take: a record's tag and length (2 + 2) and the name itself.
MAX_NAME_RECORD = MAX_IMAGE_NAME + 4
_LAST_NUMBER = re.compile(rb"([0-9]+)([^0-9]*)\Z")


def next_name(name: bytes) -> bytes | None:
    """``name`` with its last run of ASCII digits incremented, zero-padded to its width; None without digits.

    ``img_0009.png`` -> ``img_0010.png``, ``9.png`` -> ``10.png``, ``99`` -> ``100``.
    """
    match = _LAST_NUMBER.search(name)
    if match is None:
        return None
    digits = match.group(1)
    number = str(int(digits) + 1).encode("ascii").rjust(len(digits), b"0")
    return name[: match.start(1)] + number + match.group(2)


# -- writing -------------------------------------------------------------------
def _records(names: list[bytes]) -> bytes:
    """The record transform: per name a run (tag 2r - 1: r predicted names) or a literal
    (tag 2p: p bytes shared with the previous name, then the length and the bytes that follow)."""
    out, previous, run = bytearray(), b"", 0
    for name in names:
        if name == next_name(previous):
            run += 1
        else:
            if run:
                out += varint(2 * run - 1)
                run = 0
            shared = _shared_prefix(previous, name)
            out += varint(2 * shared) + varint(len(name) - shared) + name[shared:]
        previous = name
    if run:
        out += varint(2 * run - 1)
    return bytes(out)


def _shared_prefix(a: bytes, b: bytes) -> int:
    size = min(len(a), len(b))
    for i in range(size):
        if a[i] != b[i]:
            return i
    return size


def _deflate(raw: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return packer.compress(raw) + packer.flush()


def _lzma2(raw: bytes) -> bytes:
    """The smaller of two LZMA2 settings: the usual literal context (lc 3, pb 2), and none (lc 0, pb 0),
    which suits names of random letters; a decoder needs neither (LZMA2 chunks carry them)."""
    preset = 9 if len(raw) <= LZMA_DICT_SIZE else 6
    packed = [
        lzma.compress(raw, format=lzma.FORMAT_RAW,
                      filters=[{"id": lzma.FILTER_LZMA2, "preset": preset, "dict_size": LZMA_DICT_SIZE, **context}])
        for context in ({}, {"lc": 0, "pb": 0})
    ]
    return min(packed, key=len)


def pack_names(names: list[str]) -> bytes:
    """The name table of ``names`` (at least one): the smallest of every transform and compressor."""
    encoded = [name.encode("utf-8") for name in names]
    best = None
    for transform, raw in ((JOINED, SEPARATOR.join(encoded)), (RECORDS, _records(encoded))):
        candidates = [(STORED, raw)]
        if raw:
            candidates += [(DEFLATE, _deflate(raw)), (LZMA2, _lzma2(raw))]
        for compressor, packed in candidates:
            table = bytes([transform << 4 | compressor]) + varint(len(raw))
            table += packed if compressor == STORED else varint(len(packed)) + packed
            if best is None or len(table) < len(best):
                best = table
    return best


# -- reading -------------------------------------------------------------------
def read_names(cur, count: int) -> list[str]:
    """``count`` names from the table at the cursor; raises Invalid for anything out of range."""
    method = cur.byte()
    transform, compressor = method >> 4, method & 0x0F
    require(transform in (JOINED, RECORDS) and compressor in (STORED, DEFLATE, LZMA2),
            f"name table method {method:#04x} is not defined")
    raw_size = cur.varint()
    cap = count * MAX_NAME_RECORD
    require(raw_size <= cap, f"a name table of {raw_size} bytes is over the {cap} that {count} names may take")
    if compressor == STORED:
        raw = cur.take(raw_size)
    else:
        packed_size = cur.varint()
        require(1 <= packed_size <= cur.remaining(), f"a packed name table of {packed_size} bytes does not fit")
        raw = _unpack(cur.take(packed_size), compressor, raw_size)
    encoded = _split_joined(raw, count) if transform == JOINED else _replay_records(raw, count)
    try:
        return [name.decode("utf-8") for name in encoded]
    except UnicodeDecodeError:
        raise Invalid("an image name is not valid UTF-8") from None


def _unpack(packed: bytes, compressor: int, raw_size: int) -> bytes:
    """Decompress at most ``raw_size + 1`` bytes; exactly ``raw_size`` must come out, from all of ``packed``."""
    try:
        if compressor == DEFLATE:
            unpacker = zlib.decompressobj(-15)
            raw = unpacker.decompress(packed, raw_size + 1)
            done = unpacker.eof and not unpacker.unconsumed_tail and not unpacker.unused_data
        else:
            unpacker = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=LZMA_FILTERS)
            raw = unpacker.decompress(packed, raw_size + 1)
            done = unpacker.eof and not unpacker.unused_data
    except (zlib.error, lzma.LZMAError) as error:
        raise Invalid(f"the name table does not decompress ({error})") from None
    require(done and len(raw) == raw_size, f"the name table does not unpack to exactly its {raw_size} bytes")
    return raw


def _split_joined(raw: bytes, count: int) -> list[bytes]:
    encoded = raw.split(SEPARATOR)
    require(len(encoded) == count, f"the name table holds {len(encoded)} names, not {count}")
    return encoded


def _replay_records(raw: bytes, count: int) -> list[bytes]:

    cur, names, previous = Cursor(raw, 0, len(raw)), [], b""  # over the unpacked records
    while len(names) < count:
        tag = cur.varint()
        if tag & 1:
            run = (tag + 1) // 2
            require(run <= count - len(names), f"a run of {run} names is longer than the names left")
            for _ in range(run):
                previous = next_name(previous)
                require(previous is not None and len(previous) <= MAX_IMAGE_NAME,
                        "a run of names follows a name without a number, or grows one past 255 bytes")
                names.append(previous)
            continue
        shared, size = tag // 2, cur.varint()
        require(shared <= len(previous) and shared + size <= MAX_IMAGE_NAME,
                f"a name sharing {shared} bytes and adding {size} does not fit")
        previous = previous[:shared] + cur.take(size)
        names.append(previous)
    require(cur.remaining() == 0, f"{cur.remaining()} bytes follow the last name of the name table")
    return names
