"""Forged .vz files (docs/format.md): valid CRCs around invalid fields, and caps
that refuse huge declarations without allocating."""

from __future__ import annotations

import struct
import time
import tracemalloc
import zlib

import pytest

from _format_files import (
    ONE_STATE, codec2, entry, entry2, forge, forge2, forge_body, forge_body2, stream, stream2, varint,
)
from vaezip import format as vz
from vaezip.format import CorruptError, ImageEntry, TruncatedError

# -- forged files: valid CRCs, invalid fields ------------------------------------
P_EXTRA = struct.pack("<HB", 2, 3) + bytes(6)
BAD_BODIES = {
    "model name uppercase": dict(model=b"\x04NONE" + bytes(32)),
    "model name empty": dict(model=b"\x00" + bytes(32)),
    "model name too long": dict(model=b"\x41" + b"a" * 65 + bytes(32)),
    "zero sha with a model": dict(model=b"\x03abc" + bytes(32)),
    "sha with none": dict(model=b"\x04none" + b"\x01" * 32),
    "precision 0": dict(codec=struct.pack("<BBBBHHI", 0, 16, 12, 0, 1, 0, 1)),
    "precision 25": dict(codec=struct.pack("<BBBBHHI", 16, 25, 12, 0, 1, 0, 1)),
    "latent bits over posterior": dict(codec=struct.pack("<BBBBHHI", 16, 8, 9, 0, 1, 0, 1)),
    "estimator 3": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 3, 2, 0, 1)),
    "bb-ans with particles": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 0, 4, 0, 1)),
    "bb-is with one particle": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 1, 1, 0, 1)),
    "particles over cap": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 1, 4097, 0, 1)),
    "reserved codec field": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 0, 1, 7, 1)),
    "batch 0": dict(codec=struct.pack("<BBBBHHI", 16, 16, 12, 0, 1, 0, 0)),
    "mode 10": dict(entries=[entry(mode=10)], streams=[stream()]),
    "mode channels mismatch": dict(entries=[entry(mode=3, channels=1)], streams=[stream()]),
    "mode depth mismatch": dict(entries=[entry(mode=1, depth=16)], streams=[stream()]),
    "height 0": dict(entries=[entry(height=0)], streams=[stream()]),
    "width over 2**16": dict(entries=[entry(width=2**16 + 1)], streams=[stream()]),
    "count 0": dict(entries=[entry(count=0)], streams=[stream()]),
    "vae coder in a model-free file": dict(entries=[entry(coder=0)], streams=[stream()]),
    "coder 3": dict(entries=[entry(coder=3)], streams=[stream()]),
    "tile coder 2": dict(entries=[entry(coder=255, extra=b"\x01\x00\x00\x00\x02")], streams=[stream()]),
    "zero tiles": dict(entries=[entry(coder=255, extra=b"\x00\x00\x00\x00")], streams=[stream()]),
    "entry flag 2": dict(entries=[entry(flags=2)], streams=[stream()]),
    "name with a slash": dict(entries=[entry(flags=1, extra=b"\x05a/b.p")], streams=[stream()]),
    "name dot-dot": dict(entries=[entry(flags=1, extra=b"\x02..")], streams=[stream()]),
    "name not utf-8": dict(entries=[entry(flags=1, extra=b"\x02\xff\xfe")], streams=[stream()]),
    "name with newline": dict(entries=[entry(flags=1, extra=b"\x03a\nb")], streams=[stream()]),
    "palette of 0 entries": dict(entries=[entry(mode=5, extra=struct.pack("<HB", 0, 3))], streams=[stream()]),
    "palette of 257 entries": dict(
        entries=[entry(mode=5, extra=struct.pack("<HB", 257, 3) + bytes(771))], streams=[stream()]
    ),
    "palette of 2 channels": dict(
        entries=[entry(mode=5, extra=struct.pack("<HB", 2, 2) + bytes(4))], streams=[stream()]
    ),
    "palette on an L image": dict(entries=[entry(extra=P_EXTRA)], streams=[stream()]),
    "images without streams": dict(entries=[entry()]),
    "streams without images": dict(streams=[stream()]),
    "stream carries too many": dict(entries=[entry()], streams=[stream(image_count=2)]),
    "stream carries none": dict(entries=[entry()], streams=[stream(), stream(image_count=0)]),
    "stream of one word": dict(entries=[entry()], streams=[stream(words=1)]),
    "fillers over the tail": dict(entries=[entry()], streams=[stream(fillers=1)]),
    "header slack": dict(entries=[entry()], streams=[stream() + b"\x00"]),
    "short checksum table": dict(entries=[entry()], checksums=bytes(15), streams=[stream()]),
}


BAD_BODIES_V2 = {
    "model name uppercase": dict(model=b"\x04NONE" + bytes(16)),
    "zero sha with a model": dict(model=b"\x03abc" + bytes(16)),
    "sha with none": dict(model=b"\x04none" + b"\x01" * 16),
    "precision 25": dict(codec=codec2(post=25)),
    "latent bits over posterior": dict(codec=codec2(post=8, latent=9)),
    "estimator 3": dict(codec=codec2(estimator=3, particles=2)),
    "bb-ans with particles": dict(codec=codec2(particles=4)),
    "bb-is with one particle": dict(codec=codec2(estimator=1)),
    "particles over cap": dict(codec=codec2(estimator=1, particles=4097)),
    "batch 0": dict(codec=codec2(batch=0)),
    "batch over cap": dict(codec=codec2(batch=2**16 + 1)),
    "particles not in shortest form": dict(codec=bytes([16, 16, 12, 0]) + b"\x81\x00" + varint(1)),
    "entry count not in shortest form": dict(raw_entry_count=b"\x80\x00"),
    "entry count over 10 bytes": dict(raw_entry_count=b"\x80" * 10 + b"\x01"),
    "entry count of 2**64": dict(raw_entry_count=b"\x80" * 9 + b"\x02"),
    "count not in shortest form": dict(entries=[b"\x81\x00" + entry2()[1:]], streams=[stream2()]),
    "mode 10": dict(entries=[entry2(mode=10)], streams=[stream2()]),
    "height 0": dict(entries=[entry2(height=0)], streams=[stream2()]),
    "width over 2**16": dict(entries=[entry2(width=2**16 + 1)], streams=[stream2()]),
    "count 0": dict(entries=[entry2(count=0)], streams=[stream2()]),
    "vae coder in a model-free file": dict(entries=[entry2(coder=0)], streams=[stream2()]),
    "coder 3": dict(entries=[entry2(coder=3)], streams=[stream2()]),
    "tile coder 2": dict(entries=[entry2(coder=255, extra=varint(1) + b"\x02")], streams=[stream2()]),
    "zero tiles": dict(entries=[entry2(coder=255, extra=varint(0))], streams=[stream2()]),
    "entry flag 4": dict(entries=[entry2(flags=4)], streams=[stream2()]),
    "name with a slash": dict(entries=[entry2(flags=1, extra=b"\x05a/b.p")], streams=[stream2()]),
    "palette of 0 entries": dict(entries=[entry2(mode=5, extra=varint(0) + b"\x03")], streams=[stream2()]),
    "palette of 257 entries": dict(
        entries=[entry2(mode=5, extra=varint(257) + b"\x03" + bytes(771))], streams=[stream2()]
    ),
    "images without streams": dict(entries=[entry2()]),
    "streams without images": dict(streams=[stream2()]),
    "stream carries too many": dict(entries=[entry2()], streams=[stream2(image_count=2)]),
    "stream of one word": dict(entries=[entry2()], streams=[stream2(words=1)]),
    "fillers over the tail": dict(entries=[entry2()], streams=[stream2(fillers=1)]),
    "header slack": dict(entries=[entry2()], streams=[stream2() + b"\x00"]),
    "short checksum table": dict(entries=[entry2()], checksums=bytes(15), streams=[stream2()]),
}


FORGERS = {1: (forge, forge_body, BAD_BODIES), 2: (forge2, forge_body2, BAD_BODIES_V2)}


@pytest.mark.parametrize(
    "version, case", [(version, case) for version, (*_, bodies) in FORGERS.items() for case in sorted(bodies)]
)
def test_forged_invalid_field_is_corrupt(version, case):
    forger, body, bodies = FORGERS[version]
    data = forger(body(**bodies[case]), payload=ONE_STATE)
    with pytest.raises(CorruptError, match="corrupt or was not written by vaezip"):
        vz.read(data)


def test_forged_valid_version_2_body_reads():
    """The bad version-2 bodies above differ from this valid one in one field each."""
    body = forge_body2(entries=[entry2(flags=1, extra=b"\x03a.b")], streams=[stream2()])
    archive = vz.read(forge2(body, payload=ONE_STATE))
    assert archive.header.version == 2
    assert archive.images == [ImageEntry(2, 2, "L", coder=vz.CODER_MODEL_FREE, names=("a.b",))]
    assert archive.streams[0].words.tolist() == [5, 6]


def test_forged_valid_body_reads():
    """The bad bodies above differ from this valid one in one field each."""
    data = forge(forge_body(entries=[entry(flags=1, extra=b"\x03a.b")], streams=[stream()]), payload=ONE_STATE)
    archive = vz.read(data)
    assert archive.images == [ImageEntry(2, 2, "L", coder=vz.CODER_MODEL_FREE, names=("a.b",))]
    assert archive.streams[0].words.tolist() == [5, 6]


def test_final_state_below_2_to_32_is_corrupt():
    data = forge(forge_body(entries=[entry()], streams=[stream()]), payload=struct.pack("<II", 5, 0))
    with pytest.raises(CorruptError, match="final state"):
        vz.read(data)


def test_payload_size_must_match_the_stream_table():
    body = forge_body(entries=[entry()], streams=[stream(words=3)])
    with pytest.raises(CorruptError, match="payload bytes"):
        vz.read(forge(body, payload=ONE_STATE))


def fails_fast(data: bytes) -> None:
    assert len(data) < 256
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CorruptError):
            vz.read(data)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 100_000


@pytest.mark.parametrize(
    "body",
    [
        forge_body(entries=[entry(count=2049, height=1024, width=1024)], streams=[stream(image_count=2049)]),
        forge_body(entries=[entry(count=2**20, height=1 << 16, width=1 << 16)], streams=[stream(2**20)]),
        forge_body(entries=[entry(count=2**20 + 1)], streams=[stream(image_count=2**20 + 1)]),
        forge_body(entries=[entry(count=2**20), entry(count=1)], streams=[stream(2**20), stream()]),
        forge_body(entry_count=2**31),
        forge_body(entry_count=2**20),
        forge_body(stream_count=2**32 - 1),
        forge_body(entries=[entry()], streams=[stream(words=2**63)]),
        forge_body(entries=[entry(coder=255, extra=struct.pack("<I", 2**32 - 1))], streams=[stream()]),
        forge_body(entries=[entry(count=2**20, flags=1)], streams=[stream(2**20)]),
        forge_body(entries=[entry(mode=5, extra=struct.pack("<HB", 256, 4))], streams=[stream()]),
    ],
    ids=[
        "2**31+ pixels",
        "2**52 pixels",
        "2**20+1 images",
        "2**20+1 images in two entries",
        "2**31 entries",
        "2**20 entries in a small file",
        "2**32-1 streams",
        "2**63 words",
        "2**32-1 tiles",
        "2**20 names in a small file",
        "palette past the header",
    ],
)
def test_huge_declarations_fail_fast_without_allocating(body):
    fails_fast(forge(body, payload=ONE_STATE))


@pytest.mark.parametrize(
    "body",
    [
        forge_body2(entries=[entry2(count=2049, height=1024, width=1024)], streams=[stream2(image_count=2049)]),
        forge_body2(entries=[entry2(count=2**20), entry2()], streams=[stream2(2**20), stream2()]),
        forge_body2(entry_count=2**31),
        forge_body2(entry_count=2**20),
        forge_body2(stream_count=2**32 - 1),
        forge_body2(entries=[entry2()], streams=[stream2(words=2**63)]),
        forge_body2(entries=[entry2(coder=255, extra=varint(2**32 - 1))], streams=[stream2()]),
        forge_body2(entries=[entry2(count=2**20, flags=1)], streams=[stream2(2**20)]),
        forge_body2(entries=[entry2(mode=5, extra=varint(256) + b"\x04")], streams=[stream2()]),
    ],
    ids=["2**31+ pixels", "2**20+1 images in two entries", "2**31 entries", "2**20 entries in a small file",
         "2**32-1 streams", "2**63 words", "2**32-1 tiles", "2**20 names in a small file", "palette past the header"],
)
def test_huge_version_2_declarations_fail_fast_without_allocating(body):
    fails_fast(forge2(body, payload=ONE_STATE))


def test_declared_version_2_file_size_beyond_the_data_is_truncation():
    lead = vz.MAGIC + struct.pack("<HB", 2, 0) + varint(0) + varint(2) + varint(0)
    preamble = lead + varint(2**40) + varint(200)
    data = (preamble + struct.pack("<I", zlib.crc32(preamble))).ljust(100, b"\x00")
    with pytest.raises(TruncatedError, match="100 of its 1099511627776 bytes"):
        vz.read(data)


def test_version_2_preamble_cut_inside_a_number_is_truncation():
    data = vz.MAGIC + struct.pack("<HB", 2, 0) + b"\x80\x80"
    with pytest.raises(TruncatedError, match="inside its preamble"):
        vz.read(data)
