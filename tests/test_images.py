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
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaezip import container
from vaezip.images import ImageError, Picture, from_array, from_batch, read_png, write_png

VECTORS = Path(__file__).parent / "vectors" / "png"
SIZES = [(1, 1), (1, 4096), (4096, 1), (513, 257)]  # (width, height)
ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1))
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


# -- an independent PNG writer ---------------------------------------------------
def pack(samples: np.ndarray, depth: int) -> np.ndarray:
    """(H, W, C) stored samples -> (H, row bytes) uint8, big-endian, MSB first."""
    height = samples.shape[0]
    flat = samples.reshape(height, -1).astype(np.int64)
    if depth == 16:
        return np.stack([flat >> 8, flat & 255], axis=2).reshape(height, -1).astype(np.uint8)
    if depth == 8:
        return flat.astype(np.uint8)
    per = 8 // depth
    out = np.zeros((height, -(-flat.shape[1] // per)), np.int64)
    for j in range(flat.shape[1]):
        out[:, j // per] |= flat[:, j] << (8 - depth * (j % per + 1))
    return out.astype(np.uint8)


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(rows: np.ndarray, bpp: int, kinds) -> bytes:
    """PNG filtering, byte by byte, with the given filter type for each row."""
    out = bytearray()
    previous = [0] * rows.shape[1]
    for y, row in enumerate(rows.tolist()):
        kind = kinds[y % len(kinds)]
        out.append(kind)
        for x, value in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            pred = (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]
            out.append((value - pred) % 256)
        previous = row
    return bytes(out)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(samples, colour, depth, plte=None, trns=None, interlace=False, filters=(0,), idat_pieces=1) -> bytes:
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    height, width, channels = samples.shape
    assert channels == CHANNELS[colour]
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    raw = b""
    for y0, x0, dy, dx in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size:
            rows = pack(sub, depth)
            if filters == (0,):
                raw += np.concatenate([np.zeros((rows.shape[0], 1), np.uint8), rows], axis=1).tobytes()
            else:
                raw += filter_rows(rows, bpp, filters)
    data = zlib.compress(raw, 9)
    step = -(-len(data) // idat_pieces)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlace)))
    if plte is not None:
        out += chunk(b"PLTE", bytes(np.asarray(plte, np.uint8).ravel()))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    for i in range(0, len(data), step):
        out += chunk(b"IDAT", data[i : i + step])
    return out + chunk(b"IEND", b"")


def ihdr(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def chunk_types(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


# -- the cases -------------------------------------------------------------------
def palette_of(entries: int, alpha: bool, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pal = rng.integers(0, 256, (entries, 4 if alpha else 3)).astype(np.uint8)
    if alpha:
        pal[entries // 2 :, 3] = 255  # a tRNS shorter than the palette
        pal[0, 3] = 0
    return pal


# name: (colour type, bit depth, mode, palette entries, palette alpha)
CASES = {
    "gray1": (0, 1, "1", 0, False),
    "gray2": (0, 2, "L", 0, False),
    "gray4": (0, 4, "L", 0, False),
    "gray8": (0, 8, "L", 0, False),
    "gray16": (0, 16, "I;16", 0, False),
    "ga8": (4, 8, "LA", 0, False),
    "ga16": (4, 16, "LA;16", 0, False),
    "rgb8": (2, 8, "RGB", 0, False),
    "rgb16": (2, 16, "RGB;16", 0, False),
    "rgba8": (6, 8, "RGBA", 0, False),
    "rgba16": (6, 16, "RGBA;16", 0, False),
    "pal1": (3, 1, "P", 2, False),
    "pal2-trns": (3, 2, "P", 3, True),
    "pal4-trns": (3, 4, "P", 12, True),
    "pal4": (3, 4, "P", 16, False),
    "pal8": (3, 8, "P", 256, False),
    "pal8-trns": (3, 8, "P", 200, True),
    "pal8-few": (3, 8, "P", 5, False),  # 8-bit depth although 3 bits would do
    "pal8-one": (3, 8, "P", 1, True),
}


def build(case: str, width: int, height: int, interlace=False, filters=(0,), seed=0):
    """(PNG bytes, the Picture read_png must return)."""
    colour, depth, mode, entries, alpha = CASES[case]
    rng = np.random.default_rng(seed)
    top = entries if colour == 3 else 1 << depth
    stored = rng.integers(0, top, (height, width, CHANNELS[colour]))
    if top > 4 and stored.size > 4:
        stored.reshape(-1)[:2] = (0, top - 1)  # the extremes occur
    plte = trns = palette = None
    if colour == 3:
        palette = palette_of(entries, alpha)
        plte = palette[:, :3]
        if alpha:
            trns = bytes(palette[: max(1, (entries + 1) // 2), 3])
    data = make_png(stored, colour, depth, plte, trns, interlace, filters)
    pixels = stored * (255 // ((1 << depth) - 1)) if mode == "L" else stored
    pixels = pixels.astype(np.uint16 if depth == 16 else np.uint8)
    return data, Picture(pixels, mode, palette, None, depth)


def check_picture(got: Picture, want: Picture) -> None:
    assert got.mode == want.mode
    assert got.pixels.shape == want.pixels.shape
    assert got.pixels.dtype == want.pixels.dtype
    np.testing.assert_array_equal(got.pixels, want.pixels)
    if want.palette is None:
        assert got.palette is None
    else:
        assert got.palette.shape == want.palette.shape
        np.testing.assert_array_equal(got.palette, want.palette)
    assert got.transparency == want.transparency
    assert got == want
    assert got.checksum() == container.pixel_checksum(want.pixels, want.bit_depth)


def independent_decode(data: bytes, picture: Picture) -> None:
    """Pillow decodes the written file: exactly, or the top 8 bits of 16-bit colour."""
    with Image.open(io.BytesIO(data)) as image:
        decoded = np.asarray(image)
    if decoded.ndim == 2:
        decoded = decoded[:, :, None]
    if picture.mode in ("RGB;16", "RGBA;16"):
        np.testing.assert_array_equal(decoded, (picture.pixels >> 8).astype(np.uint8))
    elif picture.mode == "LA;16":  # Pillow: LA;16 -> RGBA, grey replicated
        top = (picture.pixels >> 8).astype(np.uint8)
        np.testing.assert_array_equal(decoded[:, :, [0, 3]], top)
    else:
        np.testing.assert_array_equal(decoded.astype(picture.pixels.dtype), picture.pixels)


def round_trip(data: bytes, want: Picture) -> bytes:
    got = read_png(data)
    check_picture(got, want)
    assert got.png_bit_depth == ihdr(data)[2]
    out = io.BytesIO()
    write_png(got, out)
    written = out.getvalue()
    assert ihdr(written) == ihdr(data)
    again = read_png(written)
    check_picture(again, want)
    assert again.png_bit_depth == got.png_bit_depth
    return written


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
    assert got.checksum() == container.pixel_checksum(want.pixels)
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


# -- bad input ------------------------------------------------------------------------------
def test_text_file_named_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, not an image\n")
    with pytest.raises(ImageError, match="not a PNG") as info:
        read_png(path)
    assert "\n" not in str(info.value) and "notes.png" in str(info.value)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_png(tmp_path / "empty.png")
    with pytest.raises(ImageError, match="cannot read"):
        read_png(tmp_path / "missing.png")


@pytest.mark.parametrize("case", ["rgb8", "rgba16", "pal4-trns", "gray2"])
def test_every_truncation(case):
    data, _ = build(case, 6, 5, seed=4)
    for end in range(len(data)):
        with pytest.raises(ImageError) as info:
            read_png(data[:end])
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", ["rgb8", "rgba16", "pal4-trns"])
def test_every_byte_flip_is_an_error(case):
    """These files hold only critical chunks and tRNS, whose CRCs are checked: every flip is refused."""
    data, _ = build(case, 6, 5, seed=4)
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x41
        with pytest.raises(ImageError):
            read_png(bytes(bad))


def test_corrupt_compressed_data_with_valid_crc():
    for case in ("rgb8", "rgb16"):
        samples = np.ones((4, 4, 3), int)
        good = make_png(samples, 2, int(case[3:]))
        pos = good.index(b"IDAT")
        (length,) = struct.unpack(">I", good[pos - 4 : pos])
        body = bytearray(good[pos + 4 : pos + 4 + length])
        body[2:6] = b"\xff\xff\xff\xff"
        bad = good[: pos - 4] + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")
        with pytest.raises(ImageError):
            read_png(bad)


def test_bad_filter_type():
    good = make_png(np.ones((2, 2, 3), int), 2, 16)
    raw = bytes([7]) + bytes(12) + bytes([0]) + bytes(12)
    pos = good.index(b"IDAT")
    bad = good[: pos - 4] + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="filter"):
        read_png(bad)


def test_jpeg_refused():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, format="JPEG")
    with pytest.raises(ImageError, match="JPEG"):
        read_png(buffer.getvalue())


def test_cmyk_tiff_refused():
    buffer = io.BytesIO()
    Image.new("CMYK", (8, 8)).save(buffer, format="TIFF")
    with pytest.raises(ImageError, match="TIFF"):
        read_png(buffer.getvalue())


@pytest.mark.parametrize("fmt", ["BMP", "GIF", "PPM", "WEBP"])
def test_other_formats_refused(fmt):
    buffer = io.BytesIO()
    try:
        Image.new("RGB", (8, 8)).save(buffer, format=fmt)
    except (KeyError, OSError):
        pytest.skip(f"Pillow cannot write {fmt} here")
    with pytest.raises(ImageError, match="not a PNG"):
        read_png(buffer.getvalue())


def test_animated_png_refused():
    frames = [Image.new("RGB", (4, 4), (i * 40, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="animated"):
        read_png(buffer.getvalue())


@pytest.mark.parametrize("width,height", [(70000, 1), (1, 65537), (65536, 65536), (50000, 50000)])
def test_huge_declared_size_refused_before_decoding(width, height):
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="size"):
        read_png(data)


@pytest.mark.parametrize(
    "header",
    [
        struct.pack(">IIBBBBB", 0, 4, 8, 2, 0, 0, 0),  # zero width
        struct.pack(">IIBBBBB", 4, 4, 3, 2, 0, 0, 0),  # bit depth 3
        struct.pack(">IIBBBBB", 4, 4, 16, 3, 0, 0, 0),  # 16-bit palette
        struct.pack(">IIBBBBB", 4, 4, 8, 5, 0, 0, 0),  # colour type 5
        struct.pack(">IIBBBBB", 4, 4, 8, 2, 1, 0, 0),  # compression method 1
        struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 2),  # interlace method 2
    ],
)
def test_invalid_header_refused(header):
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(ImageError):
        read_png(data)


def test_palette_index_outside_palette_refused():
    data = make_png(np.array([[0, 5]]), 3, 8, plte=np.zeros((3, 3)))
    with pytest.raises(ImageError, match="palette index"):
        read_png(data)


def test_palette_image_without_plte_refused():
    data = make_png(np.array([[0, 1]]), 3, 8)
    with pytest.raises(ImageError, match="PLTE"):
        read_png(data)


def test_repeated_ihdr_and_unknown_critical_chunk_refused():
    good = make_png(np.ones((2, 2, 3), int), 2, 8)
    for extra in (good[8:33], chunk(b"ABCD", b"x")):
        with pytest.raises(ImageError, match="critical chunk"):
            read_png(good[:33] + extra + good[33:])


def test_ancillary_chunks_ignored_and_interlace_not_kept():
    data, want = build("rgb16", 7, 5, interlace=True)
    with_text = data[:33] + chunk(b"tEXt", b"Comment\0hello") + chunk(b"gAMA", struct.pack(">I", 45455)) + data[33:]
    got = read_png(with_text)
    assert got == want
    out = io.BytesIO()
    write_png(got, out)
    assert out.getvalue()[28] == 0 and chunk_types(out.getvalue()) == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize("mode,depth", [("L", 1), ("L", 16), ("1", 8), ("P", 16), ("RGB", 16), ("RGB;16", 8)])
def test_png_bit_depth_must_fit_the_mode(mode, depth):
    channels = container.MODES[container.MODE_IDS[mode]][1]
    dtype = np.uint16 if mode.endswith("16") else np.uint8
    palette = palette_of(2, False) if mode == "P" else None
    with pytest.raises(ImageError, match="bit depth"):
        Picture(np.zeros((1, 1, channels), dtype), mode, palette, png_bit_depth=depth)


def test_write_refuses_non_pictures():
    with pytest.raises(ImageError):
        write_png(np.zeros((2, 2), np.uint8), io.BytesIO())


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
