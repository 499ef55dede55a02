"""vaezip.images: every kind of PNG read exactly and written back with the same
IHDR (size, bit depth, colour type), samples, palette and colour key.

Fixtures are built here byte by byte (``make_png``: filter, Adam7, chunks,
independent of vaezip's writer), so the truth is the array they were built
from; the written files are also decoded by Pillow (exact cases) or by
Pillow's 8-bit reduction (16-bit colour); ``tests/vectors/png/`` holds small
files written by pypng, read on every run (``GENERATE_PNG_VECTORS=1`` and pypng
rewrite them).
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _png_files import (
    CASES, CHANNELS, build, check_picture, chunk_types, ihdr, independent_decode, make_png, palette_of, round_trip,
)
from vaezip import format as vz
from vaezip.images import ImageError, Picture, from_array, from_batch, read_png, write_png

VECTORS = Path(__file__).parent / "vectors" / "png"
SIZES = [(1, 1), (1, 4096), (4096, 1), (513, 257)]  # (width, height)


# -- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", sorted(CASES))
def test_round_trip(case, size):
    data, want = build(case, *size)
    written = round_trip(data, want)
    if size == (513, 257):
        independent_decode(written, want)


@pytest.mark.parametrize("case", ["gray2", "pal4-trns", "rgb8", "gray16", "ga16", "rgba16", "rgb16"])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (9, 2), (513, 257)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_interlaced(case, size):
    data, want = build(case, *size, interlace=True, seed=3)
    assert data[28] == 1
    round_trip(data, want)


@pytest.mark.parametrize("case", ["rgba16", "rgb16", "ga16", "rgb8", "gray16"])
@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (4, 3, 2, 1, 0)], ids=str)
def test_every_row_filter(case, filters):
    data, want = build(case, 9, 7, filters=filters, seed=5)
    round_trip(data, want)
    data, want = build(case, 6, 11, interlace=True, filters=filters, seed=6)
    round_trip(data, want)


def test_written_16_bit_decodes_independently():
    """vaezip's filtered 16-bit files, decoded by pypng when installed (exact)."""
    png = pytest.importorskip("png")
    for case in ("rgb16", "rgba16", "ga16", "gray16"):
        _, want = build(case, 37, 23, seed=9)
        out = io.BytesIO()
        write_png(want, out)
        width, height, rows, info = png.Reader(bytes=out.getvalue()).read()
        decoded = np.array([list(row) for row in rows], np.uint16).reshape(want.pixels.shape)
        np.testing.assert_array_equal(decoded, want.pixels)


def test_split_idat_chunks():
    data, want = build("rgba16", 31, 17)
    samples = want.pixels
    round_trip(make_png(samples, 6, 16, idat_pieces=7), want)


def test_smooth_image_written_with_every_filter():
    """A smooth 16-bit and 8-bit image: the adaptive writer uses non-trivial filters."""
    y, x = np.mgrid[0:64, 0:96]
    rgb = np.stack([x * 600 + y, y * 900, (x * y) * 7], axis=2).astype(np.uint16)
    for picture in (from_array(rgb), from_array((rgb >> 8).astype(np.uint8))):
        out = io.BytesIO()
        write_png(picture, out)
        assert read_png(out.getvalue()) == picture
        independent_decode(out.getvalue(), picture)


# -- bit depths, palettes, colour keys -----------------------------------------------------
def test_palette_kept_entry_for_entry():
    data, want = build("pal8-trns", 20, 10)
    got = read_png(data)
    assert got.palette.shape == (200, 4)
    np.testing.assert_array_equal(got.palette, want.palette)
    assert got.palette_channels == 4 and got.palette_bytes == want.palette.tobytes()
    out = io.BytesIO()
    write_png(got, out)
    kinds = chunk_types(out.getvalue())
    assert kinds == [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"]


def test_palette_without_png_depth_uses_smallest_depth():
    pixels = np.array([[0, 1, 2, 4]])
    for entries, depth in [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)]:
        picture = Picture((pixels % entries).astype(np.uint8), "P", palette_of(entries, False))
        out = io.BytesIO()
        write_png(picture, out)
        assert ihdr(out.getvalue()) == (4, 1, depth, 3)
        back = read_png(out.getvalue())
        assert back == picture and back.png_bit_depth == depth


def test_palette_depth_too_small_for_entries_falls_back():
    picture = Picture(np.zeros((2, 2), np.uint8), "P", palette_of(20, False), png_bit_depth=2)
    out = io.BytesIO()
    write_png(picture, out)
    assert ihdr(out.getvalue())[2] == 8


def test_low_bit_grey_is_scaled_and_written_back():
    data, want = build("gray2", 5, 3)
    got = read_png(data)
    assert set(np.unique(got.pixels)) <= {0, 85, 170, 255}
    # without the PNG depth (e.g. from a .vz file) grey is written at 8 bits, same pixels
    plain = Picture(got.pixels, "L")
    out = io.BytesIO()
    write_png(plain, out)
    assert ihdr(out.getvalue())[2] == 8 and read_png(out.getvalue()) == got
    # a 2-bit depth the samples do not fit falls back to 8 bits
    odd = Picture(np.array([[0, 1]], np.uint8), "L", png_bit_depth=2)
    out = io.BytesIO()
    write_png(odd, out)
    assert ihdr(out.getvalue())[2] == 8 and read_png(out.getvalue()) == odd


def test_mode_1_samples_are_0_and_1():
    data, _ = build("gray1", 17, 3)
    got = read_png(data)
    assert got.pixels.dtype == np.uint8 and set(np.unique(got.pixels)) <= {0, 1}
    assert got.bit_depth == 1


@pytest.mark.parametrize(
    "colour,depth,key,scale",
    [(0, 8, (7,), 1), (0, 16, (40000,), 1), (0, 2, (2,), 85), (0, 1, (1,), 1), (2, 8, (1, 2, 3), 1), (2, 16, (1, 2, 65535), 1)],
)
def test_colour_key_kept(colour, depth, key, scale):
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 1 << depth, (4, 6, CHANNELS[colour]))
    data = make_png(stored, colour, depth, trns=struct.pack(f">{len(key)}H", *key))
    got = read_png(data)
    assert got.transparency == tuple(v * scale for v in key)
    out = io.BytesIO()
    write_png(got, out)
    assert ihdr(out.getvalue()) == ihdr(data)
    again = read_png(out.getvalue())
    assert again == got and again.transparency == got.transparency


def test_colour_key_out_of_range_is_dropped():
    data = make_png(np.zeros((2, 2, 1), int), 0, 4, trns=struct.pack(">H", 300))
    assert read_png(data).transparency is None


def test_planes_and_checksum():
    data, want = build("rgba16", 5, 4)
    got = read_png(data)
    planes = got.planes()
    assert planes.shape == (4, 4, 5) and planes.dtype == np.uint16
    np.testing.assert_array_equal(planes[2], want.pixels[:, :, 2])
    assert got.checksum() == vz.pixel_checksum(want.pixels)
    assert got.bit_depth == 16 and got.channels == 4 and (got.width, got.height) == (5, 4)


def test_read_from_path_and_file_and_name(tmp_path):
    data, want = build("rgb8", 3, 2)
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    assert read_png(path) == want and read_png(path).name == "photo.png"
    assert read_png(str(path)) == want
    with open(path, "rb") as handle:
        assert read_png(handle) == want
    write_png(want, tmp_path / "out.png")
    assert read_png(tmp_path / "out.png") == want


def test_pillow_written_files():
    """Files from another writer (Pillow, with its own filters) read exactly."""
    rng = np.random.default_rng(2)
    for mode, shape in [("L", (33, 21)), ("LA", (33, 21, 2)), ("RGB", (33, 21, 3)), ("RGBA", (33, 21, 4))]:
        array = rng.integers(0, 256, shape).astype(np.uint8)
        array[:, :10] = 9  # something for the filters
        buffer = io.BytesIO()
        Image.fromarray(array, mode).save(buffer, format="PNG")
        got = read_png(buffer.getvalue())
        assert got.mode == mode and np.array_equal(got.pixels.reshape(array.shape), array)
    i16 = rng.integers(0, 65536, (9, 13)).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(i16).save(buffer, format="PNG")
    got = read_png(buffer.getvalue())
    assert got.mode == "I;16" and np.array_equal(got.pixels[:, :, 0], i16)
    pal = Image.fromarray(rng.integers(0, 7, (8, 8)).astype(np.uint8), "P")
    pal.putpalette(list(range(21)))
    buffer = io.BytesIO()
    pal.save(buffer, format="PNG", transparency=3)
    got = read_png(buffer.getvalue())
    assert got.mode == "P" and got.palette.shape[1] == 4 and got.palette[3, 3] == 0
    np.testing.assert_array_equal(got.pixels[:, :, 0], np.asarray(pal))


# -- arrays -------------------------------------------------------------------------------
def test_from_array_modes():
    assert from_array(np.zeros((3, 4), np.uint8)).mode == "L"
    assert from_array(np.zeros((3, 4, 1), np.uint8)).mode == "L"
    assert from_array(np.zeros((3, 4, 2), np.uint8)).mode == "LA"
    assert from_array(np.zeros((3, 4, 3), np.uint8)).mode == "RGB"
    assert from_array(np.zeros((3, 4, 4), np.uint8)).mode == "RGBA"
    assert from_array(np.zeros((3, 4), np.uint16)).mode == "I;16"
    assert from_array(np.zeros((3, 4, 3), np.uint16)).mode == "RGB;16"
    assert from_array(np.zeros((3, 4), bool)).mode == "1"
    binary = from_array(np.array([[0, 1], [1, 0]], np.int64), mode="1")
    assert binary.pixels.dtype == np.uint8 and binary.pixels.shape == (2, 2, 1)
    pal = from_array(np.array([[0, 2]]), mode="P", palette=[[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert pal.palette.shape == (3, 3)
    pictures = from_batch(np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8))
    assert len(pictures) == 5 and all(p.mode == "L" and p.pixels.shape == (28, 28, 1) for p in pictures)
    for picture in pictures[:2]:
        out = io.BytesIO()
        write_png(picture, out)
        assert read_png(out.getvalue()) == picture


@pytest.mark.parametrize(
    "array,mode,palette",
    [
        (np.array([[0, 255]], np.uint8), "1", None),
        (np.array([[0, 256]]), "L", None),
        (np.array([[-1, 0]]), "L", None),
        (np.zeros((2, 2), np.int64), None, None),
        (np.zeros((2, 2), np.float32), "L", None),
        (np.zeros((2, 2, 5), np.uint8), None, None),
        (np.zeros((2, 2, 3), np.uint8), "L", None),
        (np.array([[0, 3]]), "P", [[0, 0, 0], [1, 1, 1]]),
        (np.zeros((2, 2), np.uint8), "P", None),
        (np.zeros((0, 2), np.uint8), "L", None),
        (np.zeros((1, 70000), np.uint8), "L", None),
        (np.zeros((2, 2), np.uint8), "CMYK", None),
    ],
)
def test_from_array_refuses(array, mode, palette):
    with pytest.raises(ImageError):
        from_array(array, mode, palette)


# -- committed files ---------------------------------------------------------------------
def vector_specs():
    """name -> (pypng Writer arguments, stored samples (H, W, C), expected Picture)."""
    rng = np.random.default_rng(2024)
    specs = {}
    rgba = rng.integers(0, 65536, (5, 7, 4))
    specs["rgba16"] = (dict(greyscale=False, alpha=True, bitdepth=16), rgba, Picture(rgba.astype(np.uint16), "RGBA;16"))
    la = rng.integers(0, 65536, (6, 5, 2))
    specs["la16-interlaced"] = (
        dict(greyscale=True, alpha=True, bitdepth=16, interlace=True),
        la,
        Picture(la.astype(np.uint16), "LA;16"),
    )
    rgb = rng.integers(0, 65536, (4, 9, 3))
    specs["rgb16-key"] = (
        dict(greyscale=False, bitdepth=16, transparent=tuple(int(v) for v in rgb[0, 0])),
        rgb,
        Picture(rgb.astype(np.uint16), "RGB;16", transparency=tuple(int(v) for v in rgb[0, 0])),
    )
    gray2 = rng.integers(0, 4, (3, 13, 1))
    specs["gray2"] = (dict(greyscale=True, bitdepth=2), gray2, Picture((gray2 * 85).astype(np.uint8), "L"))
    gray1 = rng.integers(0, 2, (5, 11, 1))
    specs["gray1"] = (dict(greyscale=True, bitdepth=1), gray1, Picture(gray1.astype(np.uint8), "1"))
    palette = rng.integers(0, 256, (11, 4))
    palette[6:, 3] = 255
    indices = rng.integers(0, 11, (6, 11, 1))
    specs["pal4-trns"] = (
        dict(palette=[tuple(int(v) for v in row) for row in palette], bitdepth=4),
        indices,
        Picture(indices.astype(np.uint8), "P", palette.astype(np.uint8)),
    )
    return specs


def test_committed_vectors():
    specs = vector_specs()
    if os.environ.get("GENERATE_PNG_VECTORS"):
        png = pytest.importorskip("png")
        VECTORS.mkdir(parents=True, exist_ok=True)
        for name, (options, samples, _) in specs.items():
            height, width, channels = samples.shape
            with open(VECTORS / f"{name}.png", "wb") as handle:
                png.Writer(width, height, **options).write(handle, samples.reshape(height, -1).tolist())
    depths = {"rgba16": 16, "la16-interlaced": 16, "rgb16-key": 16, "gray2": 2, "gray1": 1, "pal4-trns": 4}
    for name, (_, _, want) in specs.items():
        path = VECTORS / f"{name}.png"
        data = path.read_bytes()
        assert len(data) < 2048
        assert ihdr(data)[2] == depths[name]
        got = read_png(path)
        check_picture(got, want)
        out = io.BytesIO()
        write_png(got, out)
        assert ihdr(out.getvalue()) == ihdr(data)
        check_picture(read_png(out.getvalue()), want)
