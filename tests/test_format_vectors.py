"""The pinned pixel-checksum layout and the committed test vectors of every format
version (decoded on every run; regenerate with ``GENERATE_EXPECTED=1`` only when
a format version is added: the files of earlier versions must come out unchanged)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from _format_files import FILLER, VERSIONS
from vaezip import format as vz
from vaezip.format import Archive, Header, ImageEntry, Stream

VECTORS = Path(__file__).parent / "vectors" / "container"
EXPECTED = VECTORS / "expected.json"


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


def _build(header: Header, entries: list[ImageEntry], streams: list[Stream]):
    pixels = [
        [vector_pixels(7 * i + k, e.height, e.width, e.mode) for k in range(e.count)]
        for i, e in enumerate(entries)
    ]
    checksums = [vz.pixel_checksum(p, bit_depth=e.bit_depth) for p, e in zip(pixels, entries)]
    return Archive(header, entries, streams, checksums), pixels


def _headers(version: int) -> tuple[Header, Header, Header]:
    """The vectors' headers: a tiny model's, an 8-particle BB-IS model's, and a model-free file's."""
    writer = {1: (0, 1, 0), 2: (0, 2, 0), 3: (0, 3, 0)}[version]  # the vaezip that first wrote the version
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
    return tiny, is8, Header(writer=writer, version=version)


def _vectors(version: int) -> dict[str, tuple[Archive, list[list[np.ndarray]]]]:
    tiny, is8, model_free = _headers(version)
    words = lambda *w: np.array(w, dtype=np.uint32)  # noqa: E731
    return {
        "two-images.vz": _build(
            tiny,
            [ImageEntry(3, 4, "L"), ImageEntry(2, 2, "RGB")],
            [Stream(words(FILLER, FILLER, 0xDEADBEEF, 0x00000001, 0x80000000), 2, 2)],
        ),
        "mixed.vz": _build(
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
        "model-free.vz": _build(
            model_free,
            [ImageEntry(2, 2, "LA", coder=vz.CODER_MODEL_FREE)],
            [Stream(words(FILLER, 0x00000000, 0x00000001), 1, 1)],
        ),
        "empty.vz": _build(model_free, [], []),
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
        data = vz.write(archive)
        (VECTORS / name).write_bytes(data)
        expected[name] = describe(vz.read(data), pixels)  # as read: a one-image file keeps 8 checksum bytes
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
        assert vz.pixel_checksum(images, bit_depth=entry["bit_depth"])[: len(stored)] == stored  # 8 bytes: one image
    assert vz.read_header(data).images == archive.images


@pytest.mark.parametrize("name", committed_vectors())
def test_writer_output_is_pinned(name):
    """Any change to what write() emits for a version is a format change: add a version."""
    data = (VECTORS / name).read_bytes()
    assert vz.write(vz.read(data)) == data
    archive, _ = vector_archives()[name]
    assert vz.write(archive) == data
