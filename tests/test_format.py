"""The .vz container (docs/format.md): round trips, every truncation and byte
flip of a small file, versions, what write refuses; the forged files, the
pixel checksum and the committed vectors have test files of their own."""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _format_files import (
    VERSIONS, assert_same, forge, forge2, forge_body, forge_body2, one_image_archive, small_archive, state_words,
)
from vaezip import __version__
from vaezip import format as vz
from vaezip.format import Archive, ContainerError, CorruptError, Header, ImageEntry, Stream, TruncatedError, VersionError

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
    assert_same(archive, back, data)
    assert vz.write(back) == data
    contents = vz.read_header(data[: contents_size(data)])
    assert (contents.header, contents.images, contents.checksums) == (back.header, back.images, back.checksums)
    assert contents.streams == [s.entry for s in archive.streams]
    assert contents.file_size == len(data)


def contents_size(data: bytes) -> int:
    """What ``read_header`` needs: the header, or the whole of a one-image file (its one CRC covers it all)."""
    return len(data) if data.startswith(vz.COMPACT_MAGIC) else vz.read_header(data).header_size


def test_empty_archive_round_trips():
    for version, size in [(1, 40 + 1 + 4 + 32 + 12 + 4 + 4 + 4 + 4), (2, 24 + 1 + 4 + 16 + 6 + 1 + 1 + 4 + 4),
                          (3, 24 + 1 + 4 + 16 + 6 + 1 + 1 + 4 + 4)]:
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
    assert sizes == {1: 159, 2: 96, 3: 96}


def test_writer_version_defaults_to_this_vaezip():
    major, minor, patch = (int(p) for p in __version__.split(".")[:3])
    assert Header().writer == (major, minor, patch)


# -- truncation and corruption of a valid file ---------------------------------------------
@pytest.fixture(scope="module", params=[*VERSIONS, "one-image"], ids=lambda v: f"v{v}" if v != "one-image" else v)
def small_file(request) -> bytes:
    return vz.write(one_image_archive() if request.param == "one-image" else small_archive(request.param))


def one_image(data: bytes) -> bool:
    return data.startswith(vz.COMPACT_MAGIC)


def test_every_truncation_is_a_truncated_error(small_file):
    for size in range(len(small_file)):
        with pytest.raises(TruncatedError):
            vz.read(small_file[:size])


def test_read_header_needs_only_the_header(small_file):
    header_size = contents_size(small_file)
    images = (one_image_archive() if one_image(small_file) else small_archive()).images
    assert vz.read_header(small_file[:header_size]).images == images
    for size in range(header_size):
        with pytest.raises(TruncatedError):
            vz.read_header(small_file[:size])


@pytest.mark.parametrize("mask", [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF])
def test_every_byte_flip_is_a_corrupt_error(small_file, mask):
    header_size = contents_size(small_file)
    for pos in range(len(small_file)):
        bad = bytearray(small_file)
        bad[pos] ^= mask
        with pytest.raises(CorruptError):
            vz.read(bytes(bad))
        if pos < header_size:
            with pytest.raises(CorruptError):
                vz.read_header(bytes(bad))


def test_a_flip_in_the_payload_is_invisible_to_read_header(small_file):
    if one_image(small_file):
        pytest.skip("a one-image file has one CRC: read_header checks it all")
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
    if one_image(small_file):
        with pytest.raises(CorruptError, match="binary mode"):
            vz.read(small_file.replace(b"\n", b"\r\n"))
        with pytest.raises(CorruptError, match="binary mode"):
            vz.read(bytes([small_file[0] & 0x7F]) + small_file[1:])
        return
    with pytest.raises(CorruptError, match="binary mode"):
        vz.read(small_file.replace(b"\r\n", b"\n"))
    with pytest.raises(CorruptError, match="binary mode"):
        vz.read(small_file.replace(b"\n", b"\r\n"))


def test_errors_are_value_errors_with_one_line_messages(small_file):
    assert issubclass(ContainerError, ValueError)
    for bad in [small_file[:10], small_file[: min(100, len(small_file) - 1)], b"nope" * 20, small_file[:-1] + b"\x00"]:
        with pytest.raises(ContainerError) as info:
            vz.read(bad)
        assert "\n" not in str(info.value) and len(str(info.value)) > 20


def test_declared_file_size_beyond_the_data_is_truncation(small_file):
    """A 100-byte file whose preamble (with a valid CRC) claims 2**40 bytes."""
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", 1, 0, 0, 1, 0, 0, 2**40, 200)
    data = (preamble + struct.pack("<I", zlib.crc32(preamble))).ljust(100, b"\x00")
    with pytest.raises(TruncatedError, match="100 of its 1099511627776 bytes"):
        vz.read(data)


# -- versions ---------------------------------------------------------------
def test_future_version_names_the_vaezip_that_wrote_it():
    data = forge2(forge_body2(), version=4, writer=(0, 4, 1))
    for reader in (vz.read, vz.read_header):
        with pytest.raises(VersionError, match=r"format version 4 .*vaezip 0\.4\.1.*upgrade to vaezip >= 0\.4\.1"):
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


# -- write refuses what read would refuse --------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        dict(header=Header(model="Bad")),
        dict(header=Header(model="m", model_sha256=bytes(16))),
        dict(header=Header(model="m", model_sha256=b"\x01" * 32)),
        dict(header=Header(model="m", model_sha256=b"\x01" * 16, version=1)),
        dict(header=Header(version=4)),
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


def test_header_size_below_the_smallest_header_is_corrupt():
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", 1, 0, 0, 1, 0, 0, 200, 97)
    data = (preamble + struct.pack("<I", zlib.crc32(preamble))).ljust(200, b"\x00")
    with pytest.raises(CorruptError, match="header size 97"):
        vz.read(data)


def test_import_needs_neither_numba_nor_torch():
    import subprocess
    import sys

    code = "import sys, vaezip.format; print(sorted({'numba', 'torch'} & set(sys.modules)))"
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
