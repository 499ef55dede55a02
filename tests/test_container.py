"""The .vz container (docs/format.md): round trips, every truncation and byte
flip of a small file, forged files with valid CRCs but bad fields, caps that
refuse huge declarations without allocating, the pinned pixel-checksum
layout, and the committed test vectors of every format version (decoded on
every run; regenerate with ``GENERATE_EXPECTED=1`` only when a format version
is added: the files of earlier versions must come out unchanged)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaezip import container as vz
from vaezip.container import (
    Archive,
    ContainerError,
    CorruptError,
    Header,
    ImageEntry,
    Stream,
    TruncatedError,
    VersionError,
)

VECTORS = Path(__file__).parent / "vectors" / "container"
EXPECTED = VECTORS / "expected.json"
FILLER = 0x9E3779B9  # vaezip.rans FILLER_WORD; not imported, to keep these tests free of numba


# -- helpers ------------------------------------------------------------------------
def assert_same(a: Archive, b: Archive) -> None:
    assert a.header == b.header
    assert a.images == b.images
    assert a.checksums == b.checksums
    assert len(a.streams) == len(b.streams)
    for sa, sb in zip(a.streams, b.streams):
        assert (sa.fillers, sa.image_count) == (sb.fillers, sb.image_count)
        np.testing.assert_array_equal(np.asarray(sa.words, dtype=np.uint32), sb.words)
        assert sb.words.dtype == np.uint32


def state_words(low: int = 0x89ABCDEF, high: int = 0x01234567) -> list[int]:
    return [low, high]


VERSIONS = (1, 2)


def small_archive(version: int = vz.FORMAT_VERSION) -> Archive:
    """Two image entries, two streams, one name, a palette: a file of about 250 bytes (version 1)."""
    sha = vz.weights_id(hashlib.sha256(b"tiny").digest(), version)
    header = Header(model="tiny-test", model_sha256=sha, batch_size=4, version=version)
    images = [
        ImageEntry(3, 4, "L", count=2),
        ImageEntry(2, 3, "P", palette=bytes(range(12)), palette_channels=3, names=("p.png",)),
    ]
    streams = [
        Stream(np.array([FILLER, 7, *state_words()], dtype=np.uint32), fillers=1, image_count=2),
        Stream(np.array(state_words(5, 6), dtype=np.uint32), fillers=0, image_count=1),
    ]
    return Archive(header, images, streams, [bytes(range(16)), bytes(range(16, 32))])


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"v{v}")
def small_file(request) -> bytes:
    return vz.write(small_archive(request.param))


# A version-1 file forged byte by byte from docs/format.md, independent of
# vz.write, with correct sizes and CRCs: only the fields themselves can be wrong.
def forge_body(
    model: bytes = b"\x04none" + bytes(32),
    codec: bytes = struct.pack("<BBBBHHI", 16, 16, 12, 0, 1, 0, 1),
    entries: list[bytes] = (),
    entry_count: int | None = None,
    checksums: bytes | None = None,
    streams: list[bytes] = (),
    stream_count: int | None = None,
) -> bytes:
    entry_count = len(entries) if entry_count is None else entry_count
    stream_count = len(streams) if stream_count is None else stream_count
    checksums = bytes(16 * len(entries)) if checksums is None else checksums
    table = struct.pack("<I", entry_count) + b"".join(entries) + checksums
    return model + codec + table + struct.pack("<I", stream_count) + b"".join(streams)


def forge(body: bytes, payload: bytes = b"", version: int = 1, flags: int = 0, writer=None) -> bytes:
    writer = Header().writer if writer is None else writer
    header_size = 40 + len(body) + 4
    file_size = header_size + len(payload) + 4
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", version, flags, *writer, 0, file_size, header_size)
    head = preamble + struct.pack("<I", zlib.crc32(preamble)) + body
    head += struct.pack("<I", zlib.crc32(head))
    data = head + payload
    return data + struct.pack("<I", zlib.crc32(data))


def entry(count=1, height=2, width=2, mode=1, channels=1, depth=8, coder=1, flags=0, extra=b"") -> bytes:
    return struct.pack("<IIIBBBBB", count, height, width, mode, channels, depth, coder, flags) + extra


def stream(image_count=1, words=2, fillers=0) -> bytes:
    return struct.pack("<IQI", image_count, words, fillers)


ONE_STATE = struct.pack("<II", 5, 6)


# The same for version 2: counts and sizes as LEB128 varints, a 16-byte weights id.
def varint(value: int) -> bytes:
    out = b""
    while value >= 0x80:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


def codec2(lik=16, post=16, latent=12, estimator=0, particles=1, batch=1) -> bytes:
    return bytes([lik, post, latent, estimator]) + varint(particles) + varint(batch)


def forge_body2(
    model: bytes = b"\x04none" + bytes(16),
    codec: bytes = codec2(),
    entries: list[bytes] = (),
    entry_count: int | None = None,
    checksums: bytes | None = None,
    streams: list[bytes] = (),
    stream_count: int | None = None,
    raw_entry_count: bytes | None = None,
) -> bytes:
    entry_count = len(entries) if entry_count is None else entry_count
    stream_count = len(streams) if stream_count is None else stream_count
    checksums = bytes(16 * len(entries)) if checksums is None else checksums
    count = varint(entry_count) if raw_entry_count is None else raw_entry_count
    table = count + b"".join(entries) + checksums
    return model + codec + table + varint(stream_count) + b"".join(streams)


def forge2(body: bytes, payload: bytes = b"", version: int = 2, flags: int = 0, writer=None) -> bytes:
    writer = Header().writer if writer is None else writer
    lead = vz.MAGIC + struct.pack("<HB", version, flags) + b"".join(varint(v) for v in writer)
    for sizes in range(2, 21):  # the size varints' own length counts in the sizes
        header_size = len(lead) + sizes + 4 + len(body) + 4
        file_size = header_size + len(payload) + 4
        tail = varint(file_size) + varint(header_size)
        if len(tail) == sizes:
            break
    preamble = lead + tail
    head = preamble + struct.pack("<I", zlib.crc32(preamble)) + body
    head += struct.pack("<I", zlib.crc32(head))
    data = head + payload
    return data + struct.pack("<I", zlib.crc32(data))


def entry2(count=1, height=2, width=2, mode=1, coder=1, flags=0, extra=b"") -> bytes:
    return varint(count) + varint(height) + varint(width) + bytes([mode, coder, flags]) + extra


def stream2(image_count=1, words=2, fillers=0) -> bytes:
    return varint(image_count) + varint(words) + varint(fillers)


# -- round trips --------------------------------------------------------------------
name_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"), max_size=60
).filter(lambda s: s not in (".", ".."))


@st.composite
def image_entries(draw, model_free: bool) -> ImageEntry:
    mode = draw(st.sampled_from(sorted(vz.MODE_IDS)))
    count = draw(st.integers(1, 5))
    height = draw(st.integers(1, vz.MAX_SIDE))
    width = draw(st.integers(1, min(vz.MAX_SIDE, vz.MAX_PIXELS // (20 * height))))
    coder = draw(st.sampled_from([vz.CODER_MODEL_FREE, vz.CODER_PER_TILE] + ([] if model_free else [vz.CODER_VAE])))
    tile_coders = b""
    if coder == vz.CODER_PER_TILE:
        kinds = [vz.CODER_MODEL_FREE] if model_free else list(vz.TILE_CODERS)
        tile_coders = bytes(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=40)))
    palette, palette_channels = b"", 0
    if mode == "P":
        palette_channels = draw(st.sampled_from([3, 4]))
        size = palette_channels * draw(st.integers(1, 256))
        palette = draw(st.binary(min_size=size, max_size=size))
    names = tuple(draw(st.lists(name_text, min_size=count, max_size=count))) if draw(st.booleans()) else ()
    return ImageEntry(height, width, mode, count, coder, tile_coders, palette, palette_channels, names)


@st.composite
def streams_for(draw, total_images: int) -> list[Stream]:
    if total_images == 0:
        return []
    parts = draw(st.integers(1, min(total_images, 6)))
    cuts = []
    if parts > 1:
        inner = st.integers(1, total_images - 1)
        cuts = sorted(draw(st.lists(inner, min_size=parts - 1, max_size=parts - 1, unique=True)))
    bounds = [0, *cuts, total_images]
    streams = []
    for lo, hi in zip(bounds, bounds[1:]):
        tail = draw(st.lists(st.integers(0, 2**32 - 1), max_size=30))  # often empty: a bare state
        state = [draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 2**32 - 1))]
        words = np.array(tail + state, dtype=np.uint32)
        streams.append(Stream(words, draw(st.integers(0, len(tail))), hi - lo))
    return streams


@st.composite
def archives(draw) -> Archive:
    version = draw(st.sampled_from(VERSIONS))
    id_size = vz.WEIGHTS_ID_SIZE[version]
    model_free = draw(st.booleans())
    if model_free:
        model, sha = "none", bytes(id_size)
    else:
        model = draw(st.from_regex(r"[a-z0-9._-]{1,64}", fullmatch=True).filter(lambda s: s != "none"))
        sha = draw(st.binary(min_size=id_size, max_size=id_size).filter(any))
    posterior = draw(st.integers(1, 24))
    estimator = draw(st.sampled_from(sorted(vz.ESTIMATORS)))
    header = Header(
        model=model,
        model_sha256=sha,
        likelihood_precision=draw(st.integers(1, 24)),
        posterior_precision=posterior,
        latent_bits=draw(st.integers(1, posterior)),
        estimator=estimator,
        particles=1 if estimator == vz.BB_ANS else draw(st.integers(2, vz.MAX_PARTICLES)),
        batch_size=draw(st.integers(1, vz.MAX_BATCH)),
        writer=tuple(draw(st.lists(st.integers(0, 65535), min_size=3, max_size=3))),
        version=version,
    )
    images = draw(st.lists(image_entries(model_free), max_size=4))
    checksums = draw(st.lists(st.binary(min_size=16, max_size=16), min_size=len(images), max_size=len(images)))
    streams = draw(streams_for(sum(e.count for e in images)))
    return Archive(header, images, streams, checksums)


@settings(max_examples=150, deadline=None)
@given(archives())
def test_round_trip(archive):
    data = vz.write(archive)
    back = vz.read(data)
    assert_same(archive, back)
    assert vz.write(back) == data
    contents = vz.read_header(data[: contents_size(data)])
    assert (contents.header, contents.images, contents.checksums) == (archive.header, archive.images, archive.checksums)
    assert contents.streams == [s.entry for s in archive.streams]
    assert contents.file_size == len(data)


def contents_size(data: bytes) -> int:
    return vz.read_header(data).header_size


def test_empty_archive_round_trips():
    for version, size in [(1, 40 + 1 + 4 + 32 + 12 + 4 + 4 + 4 + 4), (2, 24 + 1 + 4 + 16 + 6 + 1 + 1 + 4 + 4)]:
        archive = Archive(Header(version=version), [], [], [])
        data = vz.write(archive)
        assert_same(archive, vz.read(data))
        assert len(data) == size


def test_version_2_header_of_a_digit_archive():
    """2,000 digits of one model in one stream: 96 bytes of container where version 1 spends 159.

    Version 2: preamble 12 + 2 + 1 + 3 (writer) + 3 (file size) + 1 (header size) + 4; model 1 + 9 + 16;
    codec 4 + 1 + 1; image table 1 + (2 + 1 + 1 + 3); checksum 16; streams 1 + (2 + 2 + 1); two CRCs 8.
    """
    sha = hashlib.sha256(b"weights").digest()
    sizes = {}
    for version in VERSIONS:
        archive = Archive(
            Header(model="mnist-bin", model_sha256=vz.weights_id(sha, version), estimator=vz.BB_CIS, particles=64,
                   batch_size=64, version=version),
            [ImageEntry(28, 28, "1", count=2000)],
            [Stream(np.full(8000, 7, np.uint32), fillers=0, image_count=2000)],
            [bytes(16)],
        )
        data = vz.write(archive)
        assert_same(archive, vz.read(data))
        sizes[version] = len(data) - 4 * 8000
    assert sizes == {1: 159, 2: 96}


def test_writer_version_defaults_to_this_vaezip():
    major, minor, patch = (int(p) for p in vz.__version__.split(".")[:3])
    assert Header().writer == (major, minor, patch)


# -- truncation and corruption of a valid file ---------------------------------------------
def test_every_truncation_is_a_truncated_error(small_file):
    for size in range(len(small_file)):
        with pytest.raises(TruncatedError):
            vz.read(small_file[:size])


def test_read_header_needs_only_the_header(small_file):
    header_size = vz.read_header(small_file).header_size
    assert vz.read_header(small_file[:header_size]).images == small_archive().images
    for size in range(header_size):
        with pytest.raises(TruncatedError):
            vz.read_header(small_file[:size])


@pytest.mark.parametrize("mask", [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF])
def test_every_byte_flip_is_a_corrupt_error(small_file, mask):
    header_size = vz.read_header(small_file).header_size
    for pos in range(len(small_file)):
        bad = bytearray(small_file)
        bad[pos] ^= mask
        with pytest.raises(CorruptError):
            vz.read(bytes(bad))
        if pos < header_size:
            with pytest.raises(CorruptError):
                vz.read_header(bytes(bad))


def test_a_flip_in_the_payload_is_invisible_to_read_header(small_file):
    bad = bytearray(small_file)
    bad[-6] ^= 0x10
    assert vz.read_header(bytes(bad)).images == small_archive().images
    with pytest.raises(CorruptError, match="file CRC"):
        vz.read(bytes(bad))


def test_trailing_bytes_are_corrupt(small_file):
    with pytest.raises(CorruptError, match="unexpected bytes"):
        vz.read(small_file + b"\x00")


def test_not_a_vz_file():
    for data in [b"\x89PNG\r\n\x1a\n" + bytes(64), b"hello world, this is text" * 4, bytes(100)]:
        with pytest.raises(CorruptError, match="not a .vz file"):
            vz.read(data)


def test_text_mode_transfer_is_named(small_file):
    with pytest.raises(CorruptError, match="binary mode"):
        vz.read(small_file.replace(b"\r\n", b"\n"))
    with pytest.raises(CorruptError, match="binary mode"):
        vz.read(small_file.replace(b"\n", b"\r\n"))


def test_errors_are_value_errors_with_one_line_messages(small_file):
    assert issubclass(ContainerError, ValueError)
    for bad in [small_file[:10], small_file[:100], b"nope" * 20, small_file[:-1] + b"\x00"]:
        with pytest.raises(ContainerError) as info:
            vz.read(bad)
        assert "\n" not in str(info.value) and len(str(info.value)) > 20


# -- versions ---------------------------------------------------------------
def test_future_version_names_the_vaezip_that_wrote_it():
    data = forge2(forge_body2(), version=3, writer=(0, 3, 1))
    for reader in (vz.read, vz.read_header):
        with pytest.raises(VersionError, match=r"format version 3 .*vaezip 0\.3\.1.*upgrade to vaezip >= 0\.3\.1"):
            reader(data)


def test_unknown_flags_need_a_newer_vaezip():
    with pytest.raises(VersionError, match="feature flags 0x0004"):
        vz.read(forge(forge_body(), flags=4, writer=(0, 2, 0)))
    with pytest.raises(VersionError, match="feature flags 0x0002"):
        vz.read(forge2(forge_body2(), flags=2, writer=(0, 3, 0)))


def test_version_zero_is_corrupt():
    with pytest.raises(CorruptError, match="version 0"):
        vz.read(forge(forge_body(), version=0))
    with pytest.raises(CorruptError, match="version 0"):
        vz.read(forge2(forge_body2(), version=0))


def test_forged_minimal_file_reads():
    """The forging helpers agree with the writer: the empty model-free archive."""
    assert forge(forge_body()) == vz.write(Archive(Header(version=1), [], [], []))
    assert forge2(forge_body2()) == vz.write(Archive(Header(version=2), [], [], []))


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


def test_declared_file_size_beyond_the_data_is_truncation(small_file):
    """A 100-byte file whose preamble (with a valid CRC) claims 2**40 bytes."""
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", 1, 0, 0, 1, 0, 0, 2**40, 200)
    data = (preamble + struct.pack("<I", zlib.crc32(preamble))).ljust(100, b"\x00")
    with pytest.raises(TruncatedError, match="100 of its 1099511627776 bytes"):
        vz.read(data)


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


# -- write refuses what read would refuse --------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        dict(header=Header(model="Bad")),
        dict(header=Header(model="m", model_sha256=bytes(16))),
        dict(header=Header(model="m", model_sha256=b"\x01" * 32)),
        dict(header=Header(model="m", model_sha256=b"\x01" * 16, version=1)),
        dict(header=Header(version=3)),
        dict(header=Header(latent_bits=20, posterior_precision=16)),
        dict(images=[ImageEntry(0, 3)]),
        dict(images=[ImageEntry(2, 3, "XYZ")]),
        dict(images=[ImageEntry(2, 3, "P")]),
        dict(images=[ImageEntry(2, 3, "L", coder=vz.CODER_PER_TILE)]),
        dict(images=[ImageEntry(2, 3, "L", names=("a", "b"))]),
        dict(images=[ImageEntry(2, 3, "L", names=("x" * 256,))]),
        dict(checksums=[bytes(15)]),
        dict(streams=[Stream(np.array([1], np.uint32))]),
        dict(streams=[Stream(np.array([1, 0], np.uint32))]),
        dict(streams=[Stream(np.array([1, 2], np.int64) << 32)]),
        dict(streams=[Stream(np.array([1, 2], np.uint32), fillers=1)]),
        dict(streams=[Stream(np.array([1, 2], np.uint32), image_count=2)]),
    ],
)
def test_write_refuses_an_invalid_archive(change):
    fields = dict(
        header=Header(model="m", model_sha256=b"\x01" * 16),
        images=[ImageEntry(2, 3)],
        streams=[Stream(np.array([1, 2], np.uint32))],
        checksums=[bytes(16)],
    )
    fields.update(change)
    with pytest.raises(ValueError, match="cannot write"):
        vz.write(Archive(**fields))


# -- pixel checksum ----------------------------------------------------------
def test_pixel_checksum_layout_is_pinned():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    layout = struct.pack("<IIIB", 2, 3, 1, 1) + bytes(range(6))
    assert vz.pixel_checksum(image) == hashlib.sha256(layout).digest()[:16]
    assert vz.pixel_checksum(image).hex() == "d7b0fb34113a97d9b55f85b654d0fd97"

    rgb16 = np.array([[[1, 2, 0x0300]]], dtype=np.uint16)
    layout16 = struct.pack("<IIIB", 1, 1, 3, 2) + bytes([1, 0, 2, 0, 0, 3])
    assert vz.pixel_checksum(rgb16) == hashlib.sha256(layout16).digest()[:16]
    assert vz.pixel_checksum(rgb16.astype(np.int32), bit_depth=16) == vz.pixel_checksum(rgb16)


def test_pixel_checksum_of_an_entry_concatenates_its_images():
    a, b = np.zeros((2, 2), np.uint8), np.ones((1, 4), np.uint8)
    layout = struct.pack("<IIIB", 2, 2, 1, 1) + bytes(4) + struct.pack("<IIIB", 1, 4, 1, 1) + bytes([1] * 4)
    assert vz.pixel_checksum([a, b]) == hashlib.sha256(layout).digest()[:16]
    assert vz.pixel_checksum([a]) == vz.pixel_checksum(a)


@pytest.mark.parametrize("shape", [(3, 5), (3, 5, 1), (2, 2, 4)])
def test_pixel_checksum_of_a_run_equals_the_image_by_image_layout(shape):
    images = [np.random.default_rng(k).integers(0, 256, shape).astype(np.uint8) for k in range(7)]
    digest = hashlib.sha256()
    for image in images:
        channels = shape[2] if len(shape) == 3 else 1
        digest.update(struct.pack("<IIIB", shape[0], shape[1], channels, 1) + image.tobytes())
    expected = digest.digest()[:16]
    assert vz.pixel_checksum(images) == expected  # the uint8 run path
    assert vz.pixel_checksum(images, bit_depth=8) == expected
    assert vz.pixel_checksum([i.astype(np.uint16) for i in images], bit_depth=8) == expected  # the checked path
    with pytest.raises(ValueError, match="shape"):
        vz.pixel_checksum([np.zeros((0, 2), np.uint8)] * 2)


def test_pixel_checksum_sample_size_follows_bit_depth():
    bits = np.array([[True, False]])
    assert vz.pixel_checksum(bits) == vz.pixel_checksum(bits.astype(np.int64), bit_depth=1)
    assert vz.pixel_checksum(bits) == vz.pixel_checksum(np.array([[1, 0]], np.uint16), bit_depth=8)
    assert vz.pixel_checksum(np.zeros((1, 1, 1), np.uint8)) == vz.pixel_checksum(np.zeros((1, 1), np.uint8))


def test_pixel_checksum_refuses_bad_pixels():
    with pytest.raises(TypeError, match="bit_depth"):
        vz.pixel_checksum(np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError, match=r"\[0, 2\*\*1\)"):
        vz.pixel_checksum(np.full((2, 2), 2, np.uint8), bit_depth=1)
    with pytest.raises(ValueError, match="shape"):
        vz.pixel_checksum(np.zeros((0, 2), np.uint8))
    with pytest.raises(TypeError, match="integers"):
        vz.pixel_checksum(np.zeros((2, 2)), bit_depth=8)


# -- committed test vectors -------------------------------------------------------
def vector_pixels(seed: int, height: int, width: int, mode: str) -> np.ndarray:
    """Small deterministic images for the vectors (their checksums are stored)."""
    _, channels, depth = vz.MODES[vz.MODE_IDS[mode]]
    values = np.arange(height * width * channels, dtype=np.int64) * 7919 + seed * 104729
    return (values % (1 << depth)).reshape(height, width, channels).squeeze(-1 if channels == 1 else ())


def vector_archives() -> dict[str, tuple[Archive, list[list[np.ndarray]]]]:
    """What the committed vectors hold, ``vN-*.vz`` for each format version N: the archive and its images."""
    return {f"v{version}-{name}": archive for version in VERSIONS for name, archive in _vectors(version).items()}


def _vectors(version: int) -> dict[str, tuple[Archive, list[list[np.ndarray]]]]:
    def build(header, entries, streams):
        pixels = [
            [vector_pixels(7 * i + k, e.height, e.width, e.mode) for k in range(e.count)]
            for i, e in enumerate(entries)
        ]
        checksums = [vz.pixel_checksum(p, bit_depth=e.bit_depth) for p, e in zip(pixels, entries)]
        return Archive(header, entries, streams, checksums), pixels

    writer = {1: (0, 1, 0), 2: (0, 2, 0)}[version]  # the vaezip that first wrote the version
    tiny = Header(
        model="tiny-test.v1", model_sha256=vz.weights_id(hashlib.sha256(b"tiny-test weights").digest(), version),
        batch_size=2, writer=writer, version=version,
    )
    is8 = Header(
        model="mnist-ar_k5",
        model_sha256=vz.weights_id(hashlib.sha256(b"mnist-ar weights").digest(), version),
        version=version,
        likelihood_precision=18,
        posterior_precision=20,
        latent_bits=14,
        estimator=vz.BB_IS,
        particles=8,
        batch_size=64,
        writer=writer,
    )
    words = lambda *w: np.array(w, dtype=np.uint32)  # noqa: E731
    return {
        "two-images.vz": build(
            tiny,
            [ImageEntry(3, 4, "L"), ImageEntry(2, 2, "RGB")],
            [Stream(words(FILLER, FILLER, 0xDEADBEEF, 0x00000001, 0x80000000), 2, 2)],
        ),
        "mixed.vz": build(
            is8,
            [
                ImageEntry(2, 3, "P", coder=vz.CODER_PER_TILE, tile_coders=b"\x00\x01\x00",
                           palette=bytes(range(0, 256, 32)) * 4, palette_channels=4, names=("palette é.png",)),
                ImageEntry(2, 2, "I;16", count=2, coder=vz.CODER_MODEL_FREE, names=("deep.png", "")),
                ImageEntry(3, 5, "1", coder=vz.CODER_VAE),
                ImageEntry(1, 2, "RGBA;16"),
            ],
            [
                Stream(words(FILLER, 0x01020304, 0x05060708, 0xFFFFFFFF), 1, 3),
                Stream(words(0x11111111, 0x22222222), 0, 1),
                Stream(words(0x0A0B0C0D, 0x33333333, 0x44444444), 0, 1),
            ],
        ),
        "model-free.vz": build(
            Header(writer=writer, version=version),
            [ImageEntry(2, 2, "LA", coder=vz.CODER_MODEL_FREE)],
            [Stream(words(FILLER, 0x00000000, 0x00000001), 1, 1)],
        ),
        "empty.vz": build(Header(writer=writer, version=version), [], []),
    }


def describe(archive: Archive, pixels: list[list[np.ndarray]]) -> dict:
    """The JSON form of a vector's expected contents."""
    h = archive.header
    return {
        "header": {
            "version": h.version, "writer": list(h.writer), "model": h.model, "model_sha256": h.model_sha256.hex(),
            "likelihood_precision": h.likelihood_precision, "posterior_precision": h.posterior_precision,
            "latent_bits": h.latent_bits, "estimator": h.estimator, "particles": h.particles,
            "batch_size": h.batch_size,
        },
        "images": [
            {
                "height": e.height, "width": e.width, "mode": e.mode, "channels": e.channels,
                "bit_depth": e.bit_depth, "count": e.count, "coder": e.coder, "tile_coders": list(e.tile_coders),
                "palette": e.palette.hex(), "palette_channels": e.palette_channels, "names": list(e.names),
                "checksum": c.hex(), "pixels": [p.tolist() for p in imgs],
            }
            for e, c, imgs in zip(archive.images, archive.checksums, pixels)
        ],
        "streams": [
            {"image_count": s.image_count, "fillers": s.fillers, "words": [int(w) for w in s.words]}
            for s in archive.streams
        ],
    }


def test_generate_vectors_on_request():
    if not os.environ.get("GENERATE_EXPECTED"):
        pytest.skip("set GENERATE_EXPECTED=1 to rewrite tests/vectors/container (format changes only)")
    VECTORS.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (archive, pixels) in vector_archives().items():
        (VECTORS / name).write_bytes(vz.write(archive))
        expected[name] = describe(archive, pixels)
    EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def committed_vectors() -> list[str]:
    return sorted(p.name for p in VECTORS.glob("v*.vz"))


def test_every_committed_vector_is_described():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert committed_vectors() == sorted(expected)
    names = ("two-images.vz", "mixed.vz", "model-free.vz", "empty.vz")
    assert {f"v{version}-{name}" for version in VERSIONS for name in names} <= set(expected)


@pytest.mark.parametrize("name", committed_vectors())
def test_committed_vector_decodes(name):
    """Backward compatibility: every vector ever committed reads to what its JSON says."""
    data = (VECTORS / name).read_bytes()
    want = json.loads(EXPECTED.read_text(encoding="utf-8"))[name]
    archive = vz.read(data)
    pixels = [[np.array(p) for p in entry["pixels"]] for entry in want["images"]]
    assert describe(archive, pixels) == want
    for entry, stored in zip(want["images"], archive.checksums):
        images = [np.array(p) for p in entry["pixels"]]
        assert vz.pixel_checksum(images, bit_depth=entry["bit_depth"]) == stored
    assert vz.read_header(data).images == archive.images


@pytest.mark.parametrize("name", committed_vectors())
def test_writer_output_is_pinned(name):
    """Any change to what write() emits for a version is a format change: add a version."""
    data = (VECTORS / name).read_bytes()
    assert vz.write(vz.read(data)) == data
    archive, _ = vector_archives()[name]
    assert vz.write(archive) == data


def test_header_size_below_the_smallest_header_is_corrupt():
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", 1, 0, 0, 1, 0, 0, 200, 97)
    data = (preamble + struct.pack("<I", zlib.crc32(preamble))).ljust(200, b"\x00")
    with pytest.raises(CorruptError, match="header size 97"):
        vz.read(data)


def test_import_needs_neither_numba_nor_torch():
    import subprocess
    import sys

    code = "import sys, vaezip.container; print(sorted({'numba', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "mode, depth, key",
    [("L", 2, ()), ("L", 4, (85,)), ("P", 4, ()), ("1", 1, (0,)), ("RGB", 0, (1, 2, 3)),
     ("RGB;16", 16, (65535, 0, 7)), ("I;16", 0, (300,))],
)
def test_png_extras_round_trip(mode, depth, key):
    palette = dict(palette=bytes(range(12)), palette_channels=3) if mode == "P" else {}
    image = ImageEntry(3, 5, mode, 2, vz.CODER_MODEL_FREE, png_bit_depth=depth, transparency=key, **palette)
    archive = Archive(Header(), [image], [Stream(np.array(state_words(), dtype=np.uint32), 0, 2)], [bytes(16)])
    back = vz.read(vz.write(archive))
    assert back.images[0].png_bit_depth == depth and back.images[0].transparency == key


@pytest.mark.parametrize(
    "mode, depth, key",
    [("L", 1, ()), ("LA", 4, ()), ("RGB", 0, (1,)), ("LA", 0, (3,)), ("1", 0, (2,)), ("L", 0, (256,))],
)
def test_png_extras_are_validated(mode, depth, key):
    image = ImageEntry(3, 5, mode, 1, vz.CODER_MODEL_FREE, png_bit_depth=depth, transparency=key)
    archive = Archive(Header(), [image], [Stream(np.array(state_words(), dtype=np.uint32), 0, 1)], [bytes(16)])
    with pytest.raises(ValueError):
        vz.write(archive)
