"""Version 3's coded name table and its one-image form (docs/format.md, "Name table", "One-image files"):
what names cost, that any names come back exactly, and forged tables and leads refused as corrupt.

``python tests/test_format_names.py`` prints the figures the tests assert.
"""

from __future__ import annotations

import lzma
import random
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _format_files import ONE_STATE, entry2, forge2, forge_body2, one_image_archive, stream2, varint
from vaezip import format as vz
from vaezip.format import Archive, CorruptError, Header, ImageEntry, Stream, TruncatedError, VersionError
from vaezip.format import compact, v3
from vaezip.format.body import pack_kind, pack_png_extras
from vaezip.format.errors import Invalid
from vaezip.format.fields import Cursor
from vaezip.format.records import ENTRY_HAS_PNG
from vaezip.format.names import next_name, pack_names, read_names

DIGIT_NAMES = [f"{i:05d}.png" for i in range(10_000)]


def hex_names(count: int = 10_000, seed: int = 0) -> list[str]:
    draw = random.Random(seed)
    return [f"{draw.getrandbits(64):016x}.png" for _ in range(count)]


def round_trip(names: list[str]) -> bytes:
    table = pack_names(names)
    assert read_names(Cursor(table, 0, len(table)), len(names)) == names
    return table


def xz9(names: list[str]) -> int:
    """``xz -9`` of the names joined with newlines, as ``lzma.compress(..., preset=9)`` (FORMAT_XZ) writes it."""
    return len(lzma.compress("\n".join(names).encode("utf-8"), preset=9))


# -- what names cost -------------------------------------------------------------------
def test_ten_thousand_numbered_names_cost_at_most_64_bytes():
    assert len(round_trip(DIGIT_NAMES)) <= 64


def test_ten_thousand_random_hex_names_cost_no_more_than_xz_9():
    names = hex_names()
    assert len(round_trip(names)) <= xz9(names)


def test_a_digit_archive_of_10000_named_images_spends_little_on_names():
    def size(names):
        archive = Archive(Header(), [ImageEntry(28, 28, "1", count=10_000, coder=vz.CODER_MODEL_FREE, names=names)],
                          [Stream(np.array([1, 2], np.uint32), image_count=10_000)], [bytes(16)])
        return len(vz.write(archive))

    assert size(tuple(DIGIT_NAMES)) - size(()) <= 64


# -- every name comes back ----------------------------------------------------------
@pytest.mark.parametrize("names", [
    ["9.png", "10.png", "11.png"],
    ["09", "10", "11", "99", "100", "0099", "0100"],
    ["a", "a", "", "", "a1", "a2", "a2", "a3"],
    ["img_0001.png", "img_0002.png", "img_0004.png", "img_0005.png", "x.png", "img_0006.png"],
    ["1" * 255, "1" * 254 + "2", "9" * 255],
    ["ünïcødé-1.png", "ünïcødé-2.png", "日本語3.png", "日本語4.png"],
    [""],
    ["x" * 255],
])
def test_names_round_trip(names):
    round_trip(names)


def test_next_name_increments_the_last_number_at_its_width():
    assert [next_name(n) for n in (b"img_0009.png", b"9.png", b"09", b"99", b"a1b2", b"x")] == [
        b"img_0010.png", b"10.png", b"10", b"100", b"a1b3", None]


name_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"), max_size=40
).filter(lambda s: s not in (".", "..") and len(s.encode("utf-8")) <= 255)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(name_text, st.integers(0, 10**6).map(lambda n: f"n{n:04d}.png")), min_size=1, max_size=30))
def test_any_names_round_trip(names):
    round_trip(names)


# -- forged name tables ------------------------------------------------------------------
def table(method: int, raw: bytes, packed: bytes | None = None) -> bytes:
    head = bytes([method]) + varint(len(raw))
    return head + (raw if packed is None else varint(len(packed)) + packed)


def deflate(raw: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(raw) + packer.flush()


BAD_TABLES = {
    "method 3": (table(0x03, b"a"), 1),
    "transform 2": (table(0x20, b"a"), 1),
    "too few joined names": (table(0x00, b"a\nb"), 3),
    "too many joined names": (table(0x00, b"a\nb\nc"), 2),
    "raw size over the cap": (bytes([0x00]) + varint(2 * 259 + 1) + b"a" * 519, 2),
    "run after a name without a number": (table(0x10, varint(0) + varint(1) + b"a" + varint(1)), 2),
    "run before any name": (table(0x10, varint(1)), 1),
    "run longer than the names": (table(0x10, varint(0) + varint(1) + b"1" + varint(3)), 2),
    "prefix longer than the name before": (table(0x10, varint(0) + varint(1) + b"a" + varint(4) + varint(0)), 2),
    "name over 255 bytes": (table(0x10, varint(0) + varint(256) + b"a" * 256), 1),
    "run grows past 255 bytes": (table(0x10, varint(0) + varint(255) + b"9" * 255 + varint(1)), 2),
    "bytes after the last record": (table(0x10, varint(0) + varint(1) + b"a" + b"\x00"), 1),
    "name not utf-8": (table(0x00, b"\xff\xfe"), 1),
    "deflate of other bytes": (table(0x01, b"ab", b"\x00\x01"), 1),
    "deflate longer than declared": (table(0x01, b"a", deflate(b"a\nb")), 1),
    "deflate shorter than declared": (table(0x01, b"a\nb\nc", deflate(b"a\nb")), 3),
    "deflate with bytes after its end": (table(0x01, b"ab", deflate(b"ab") + b"\x00"), 1),
    "lzma of other bytes": (table(0x02, b"ab", b"\x01\x02\x03"), 1),
    "packed size over the table": (bytes([0x01]) + varint(2) + varint(100) + b"\x00", 1),
}


def forge_named(names: bytes, count: int) -> bytes:
    """A version-3 file of one named entry of ``count`` images whose name table is ``names``."""
    streams = stream2(image_count=count)
    body = forge_body2(entries=[entry2(count=count, flags=1)], streams=[streams])
    cut = len(body) - len(streams) - 1 - 16  # the name table goes between the image table and the checksums
    return forge2(body[:cut] + names + body[cut:], version=3, payload=ONE_STATE)


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_forged_name_table_is_invalid(case):
    data, count = BAD_TABLES[case]
    with pytest.raises(Invalid):
        read_names(Cursor(data, 0, len(data)), count)


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_forged_name_table_in_a_file_is_corrupt(case):
    data, count = BAD_TABLES[case]
    forged = forge_named(data, count)
    with pytest.raises(CorruptError, match="corrupt or was not written by vaezip"):
        vz.read(forged)


def test_forged_valid_name_table_reads():
    """The tables above differ from valid ones like this in one thing each."""
    names = table(0x10, varint(0) + varint(5) + b"a9.pn" + varint(0) + varint(0))
    assert vz.read(forge_named(names, 2)).images[0].names == ("a9.pn", "")
    run = table(0x11, varint(0) + varint(1) + b"9" + varint(1), deflate(varint(0) + varint(1) + b"9" + varint(1)))
    assert vz.read(forge_named(run, 2)).images[0].names == ("9", "10")


def test_a_bomb_is_refused_before_it_is_unpacked():
    """A megabyte of zeros packed in a kilobyte, declared as the table of 2 names: the cap refuses it first."""
    raw = bytes(1 << 20)
    data = table(0x02, raw, lzma.compress(raw, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}]))
    with pytest.raises(Invalid, match="over the 518"):
        read_names(Cursor(data, 0, len(data)), 2)
    lying = bytes([0x02]) + varint(10) + data[1 + len(varint(len(raw))):]  # says 10 bytes, holds a megabyte
    with pytest.raises(Invalid, match="exactly its 10 bytes"):
        read_names(Cursor(lying, 0, len(lying)), 2)


# -- the one-image form --------------------------------------------------------------------
@pytest.mark.parametrize("entry, words", [
    (ImageEntry(1, 1, "L", coder=vz.CODER_MODEL_FREE), 3),
    (ImageEntry(1, 3000, "L", coder=vz.CODER_STORED), 40),
    (ImageEntry(16, 16, "RGB", coder=vz.CODER_MODEL_FREE), 200),
    (ImageEntry(3000, 4000, "RGB", coder=vz.CODER_MODEL_FREE), 3 << 20),  # 12 MiB of payload
], ids=["1x1", "1x3000 stored", "16x16 RGB", "3000x4000 RGB"])
def test_one_image_file_overhead_is_at_most_32_bytes(entry, words):
    """24 bytes and the varints of the file size, height and width (docs/format.md, "One-image files")."""
    stream = np.arange(1, words + 1, dtype=np.uint32)
    data = vz.write(Archive(Header(), [entry], [Stream(stream)], [bytes(16)]))
    assert data.startswith(vz.COMPACT_MAGIC)
    assert len(data) - 4 * words <= 32


def test_one_image_lead_cut_or_forged():
    data = vz.write(one_image_archive())
    with pytest.raises(TruncatedError, match="inside its signature"):
        vz.read(data[:3])
    with pytest.raises(TruncatedError, match="inside its lead"):
        vz.read(data[:7])
    lead = vz.COMPACT_MAGIC + bytes([0x40]) + varint(0) + varint(4) + varint(0) + varint(60)
    for kind, error, message in [(0x40, VersionError, r"format version 4 .*upgrade to vaezip >= 0\.4\.0"),
                                 (0x20, CorruptError, "version 2 does not exist")]:
        forged = bytes([*lead[:4], kind]) + lead[5:]
        forged += struct.pack("<H", __import__("binascii").crc_hqx(forged, 0))
        with pytest.raises(error, match=message):
            vz.read(forged.ljust(60, b"\x00"))


def forge_one(entry: ImageEntry, flags: int, rest: bytes) -> bytes:
    """A one-image file forged from its parts: ``rest`` follows the entry's kind; the lead and CRC are valid."""
    body = pack_kind(entry, v3) + rest
    data = compact._pack_lead(3 << 4 | flags, (0, 3, 0), len(body) + 4) + body
    return data + struct.pack("<I", zlib.crc32(data))


CHECKSUM = bytes(8)
NONE_MODEL = b"\x04none" + bytes(16) + bytes([16, 16, 12, 0]) + varint(1) + varint(1)
BAD_ONE_IMAGE = {
    "model none written out": (compact.HAS_MODEL, NONE_MODEL + CHECKSUM + ONE_STATE, 'model "none"'),
    "filler count 0 flagged": (compact.HAS_FILLERS, CHECKSUM + varint(0) + ONE_STATE, "filler count of 0"),
    "torn payload": (0, CHECKSUM + ONE_STATE + b"\x01", "not a whole number of words"),
    "one word": (0, CHECKSUM + b"\x05\x00\x00\x00", "file size 31"),
    "final state below 2**32": (0, CHECKSUM + struct.pack("<II", 5, 0), "final state"),
    "empty PNG extras": (ENTRY_HAS_PNG, b"\x00\x00" + CHECKSUM + ONE_STATE, "PNG extras"),
}


@pytest.mark.parametrize("case", sorted(BAD_ONE_IMAGE))
def test_one_image_file_forged_field_is_corrupt(case):
    flags, rest, message = BAD_ONE_IMAGE[case]
    with pytest.raises(CorruptError, match=message):
        vz.read(forge_one(ImageEntry(3, 4, "L", coder=vz.CODER_MODEL_FREE), flags, rest))


def test_one_image_file_forged_valid_reads():
    entry = ImageEntry(3, 4, "L", coder=vz.CODER_MODEL_FREE, png_bit_depth=8, transparency=(7,))
    archive = vz.read(forge_one(entry, ENTRY_HAS_PNG, pack_png_extras(entry) + CHECKSUM + ONE_STATE))
    assert archive.images == [entry] and archive.checksums == [CHECKSUM]


if __name__ == "__main__":
    for label, names in [("10,000 names 00000.png..09999.png", DIGIT_NAMES),
                         ("10,000 random 16-hex-digit names + .png", hex_names())]:
        print(f"{label}: name table {len(pack_names(names))} bytes; xz -9 of the joined names {xz9(names)} bytes; "
              f"raw {sum(len(n) + 1 for n in names)} bytes")
