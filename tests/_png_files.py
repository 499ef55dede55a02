"""Helpers of the PNG tests: an independent PNG writer (filters, Adam7, chunks, made
byte by byte without vaezip's writer), the kinds of PNG the tests build, and checks."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from vaezip import format as vz
from vaezip.images import Picture, read_png, write_png

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
    assert got.checksum() == vz.pixel_checksum(want.pixels, want.bit_depth)


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
