"""vaezip.images refuses what it cannot read exactly, with a one-line ImageError:
other formats, truncated and corrupt files, animation, huge sizes, invalid chunks."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from _png_files import build, chunk, chunk_types, make_png, palette_of
from vaezip import format as vz
from vaezip.images import ImageError, Picture, read_png, write_png


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
    channels = vz.MODES[vz.MODE_IDS[mode]][1]
    dtype = np.uint16 if mode.endswith("16") else np.uint8
    palette = palette_of(2, False) if mode == "P" else None
    with pytest.raises(ImageError, match="bit depth"):
        Picture(np.zeros((1, 1, channels), dtype), mode, palette, png_bit_depth=depth)


def test_write_refuses_non_pictures():
    with pytest.raises(ImageError):
        write_png(np.zeros((2, 2), np.uint8), io.BytesIO())
