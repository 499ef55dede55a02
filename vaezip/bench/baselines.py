"""The codecs people use, on the same images: PNG, WebP and JPEG XL (per image and as one mosaic),
and xz, brotli and zstd over the raw bytes; each decoded and checked before its row counts."""

from __future__ import annotations

import io
import lzma
import math
import platform
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from vaezip.bench.errors import BenchError
from vaezip.bench.progress import Progress, quiet, step

BASELINES = ("png", "webp", "jxl", "xz", "brotli", "zstd")
IMAGE_CODECS = ("png", "webp", "jxl")
JXL_EFFORT = 10  # the strongest setting; one thread, as vaezip codes the sample
LABELS = {
    "png": "PNG (Pillow, optimize=True)",
    "webp": "WebP lossless (method 6)",
    "jxl": f"JPEG XL lossless (effort {JXL_EFFORT})",
    "xz": "xz -9e (raw bytes)",
    "brotli": "brotli 11 (raw bytes)",
    "zstd": "zstd 19 (raw bytes)",
}
WEBP_MAX_SIDE = 16383


def parse_baselines(text: str) -> tuple[str, ...]:
    """``"png,xz"`` -> ``("png", "xz")``; ``"all"`` -> every one; ``"none"`` or ``""`` -> ()."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if names in ([], ["none"]):
        return ()
    if names == ["all"]:
        return BASELINES
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise BenchError(f"unknown baseline {unknown[0]!r}; choose from {','.join(BASELINES)}, all or none")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class _Codec:
    """One baseline: ``encode(array, mode) -> bytes`` and ``decode(bytes) -> array`` (for the check)."""

    name: str
    label: str
    encode: Callable
    decode: Callable
    version: str


def _pillow_image(array: np.ndarray, mode: str):
    from PIL import Image

    if mode == "1":
        return Image.fromarray(array.astype(bool))
    return Image.fromarray(array)


def _pillow_pixels(data: bytes, mode: str) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        pixels = np.asarray(image)
    if mode == "1":
        return pixels.astype(np.uint8)
    return pixels


def _png_encode(array: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    _pillow_image(array, mode).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _webp_encode(array: np.ndarray, mode: str) -> bytes:
    if mode == "1":
        array = array * np.uint8(255)  # WebP has no 1-bit mode
    buffer = io.BytesIO()
    image = _pillow_image(array, "L" if mode == "1" else mode)
    image.save(buffer, format="WEBP", lossless=True, method=6, quality=100, exact=True)
    return buffer.getvalue()


def _webp_decode(data: bytes, mode: str) -> np.ndarray:
    pixels = _pillow_pixels(data, "L")
    if mode in ("1", "L"):
        pixels = pixels[:, :, 0] if pixels.ndim == 3 else pixels
        return pixels // 255 if mode == "1" else pixels
    if mode == "LA":
        return pixels[:, :, [0, 3]]
    if mode == "RGBA" and pixels.shape[2] == 3:  # libwebp drops an alpha channel that is all 255
        return np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    return pixels


def _jxl_codec() -> _Codec | str:
    """JPEG XL lossless through imagecodecs, else pillow-jxl-plugin; a reason string if neither."""
    try:
        import imagecodecs

        if imagecodecs.JPEGXL.available:
            return _Codec(
                "jxl", LABELS["jxl"],
                lambda a, m: imagecodecs.jpegxl_encode(a, lossless=True, effort=JXL_EFFORT, numthreads=1),
                lambda d, m: imagecodecs.jpegxl_decode(d),
                f"imagecodecs {imagecodecs.__version__} ({imagecodecs.jpegxl_version()})",
            )
    except ImportError:
        pass
    try:
        import pillow_jxl  # noqa: F401  (registers the JXL plugin with Pillow)
    except ImportError:
        return "skipped: not installed (pip install imagecodecs, or pillow-jxl-plugin)"

    def encode(array, mode):
        buffer = io.BytesIO()
        image = _pillow_image(array * np.uint8(255) if mode == "1" else array, "L" if mode == "1" else mode)
        image.save(buffer, format="JXL", lossless=True, effort=JXL_EFFORT)
        return buffer.getvalue()

    def decode(data, mode):
        pixels = _pillow_pixels(data, "L")
        return pixels // 255 if mode == "1" else pixels

    return _Codec("jxl", LABELS["jxl"], encode, decode,
                  f"pillow-jxl-plugin {_version('pillow-jxl-plugin')}")


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def _image_codec(name: str) -> _Codec | str:
    import PIL
    from PIL import features

    if name == "png":
        return _Codec("png", LABELS["png"], _png_encode, _pillow_pixels, f"Pillow {PIL.__version__}")
    if name == "webp":
        if not features.check("webp"):
            return "skipped: this Pillow has no WebP support"
        return _Codec("webp", LABELS["webp"], _webp_encode, _webp_decode,
                      f"Pillow {PIL.__version__} (libwebp {features.version('webp')})")
    return _jxl_codec()


def _bytes_codec(name: str) -> _Codec | str:
    if name == "xz":
        return _Codec("xz", LABELS["xz"], lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
                      lzma.decompress, f"Python {platform.python_version()} lzma")
    if name == "brotli":
        try:
            import brotli

            return _Codec("brotli", LABELS["brotli"], lambda b: brotli.compress(b, quality=11),
                          brotli.decompress, f"brotli {_version('brotli')}")
        except ImportError:
            pass
        return _imagecodecs_bytes("brotli", LABELS["brotli"], lambda ic, b: ic.brotli_encode(b, level=11),
                                  lambda ic, b: ic.brotli_decode(b), "pip install brotli")
    try:
        import zstandard

        return _Codec("zstd", LABELS["zstd"], lambda b: zstandard.ZstdCompressor(level=19).compress(b),
                      lambda b: zstandard.ZstdDecompressor().decompress(b), f"zstandard {zstandard.__version__}")
    except ImportError:
        pass
    return _imagecodecs_bytes("zstd", LABELS["zstd"], lambda ic, b: ic.zstd_encode(b, level=19),
                              lambda ic, b: ic.zstd_decode(b), "pip install zstandard")


def _imagecodecs_bytes(name, label, encode, decode, hint) -> _Codec | str:
    try:
        import imagecodecs
    except ImportError:
        return f"skipped: not installed ({hint})"
    if not getattr(imagecodecs, name.upper()).available:
        return f"skipped: not installed ({hint})"
    return _Codec(name, label, lambda b: encode(imagecodecs, b), lambda b: decode(imagecodecs, b),
                  f"imagecodecs {imagecodecs.__version__}")


def mosaic(arrays: list[np.ndarray]) -> np.ndarray:
    """The images tiled ``ceil(sqrt(N))`` to a row, in order, row by row; empty tiles are zeros."""
    count = len(arrays)
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    height, width = arrays[0].shape[:2]
    grid = np.zeros((rows * height, columns * width) + arrays[0].shape[2:], dtype=arrays[0].dtype)
    for index, array in enumerate(arrays):
        r, c = divmod(index, columns)
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = array
    return grid


def _image_array(picture) -> np.ndarray:
    pixels = picture.pixels
    return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels


def _unsupported(mode: str, codec: str) -> str | None:
    if mode not in ("1", "L", "LA", "RGB", "RGBA") and not (codec == "png" and mode == "I;16"):
        return f"skipped: {codec} baseline does not take mode {mode} images"
    return None


def _row(name, label, layout, version, status="ok", data_bytes=None, seconds=None, dims=1, vaezip_bits=1.0):
    bits = None if data_bytes is None else 8 * data_bytes
    return {
        "name": name, "label": label, "layout": layout, "codec": version, "status": status,
        "bytes": data_bytes,
        "bpd": None if bits is None else bits / dims,
        "ratio": None if bits is None else bits / vaezip_bits,
        "seconds": seconds,
    }


def _image_rows(name: str, pictures: list, dims: int, vaezip_bits: float, progress: Progress) -> list[dict]:
    codec = _image_codec(name)
    label = LABELS[name]
    mode = pictures[0].mode
    reason = codec if isinstance(codec, str) else _unsupported(mode, name)
    if reason:
        return [_row(name, label, layout, None, reason) for layout in ("per-image", "mosaic")]
    arrays = [_image_array(p) for p in pictures]
    rows = []
    total, bar = 0, progress(f"{name}: per image", len(arrays))
    started = time.perf_counter()
    try:
        for array in arrays:
            data = codec.encode(array, mode)
            if not np.array_equal(codec.decode(data, mode), array):
                raise BenchError(f"the {name} baseline did not decode an image exactly; its row is not valid")
            total += len(data)
            bar.update(1)
    finally:
        bar.close()
    rows.append(_row(name, codec.label, "per-image", codec.version, "ok", total, time.perf_counter() - started,
                     dims, vaezip_bits))
    grid = mosaic(arrays)
    if name == "webp" and max(grid.shape[:2]) > WEBP_MAX_SIDE:
        rows.append(_row(name, codec.label, "mosaic", codec.version,
                         f"skipped: mosaic {grid.shape[1]}x{grid.shape[0]} exceeds WebP's {WEBP_MAX_SIDE} px"))
        return rows

    def encode_mosaic():
        data = codec.encode(grid, mode)
        if not np.array_equal(codec.decode(data, mode), grid):
            raise BenchError(f"the {name} baseline did not decode the mosaic exactly; its row is not valid")
        return data

    data, seconds = step(progress, f"{name}: mosaic {grid.shape[1]}x{grid.shape[0]}", encode_mosaic)
    rows.append(_row(name, codec.label, "mosaic", codec.version, "ok", len(data), seconds, dims, vaezip_bits))
    return rows


def _bytes_rows(name: str, raw: bytes, dims: int, vaezip_bits: float, progress: Progress) -> list[dict]:
    codec = _bytes_codec(name)
    label = LABELS[name]
    if isinstance(codec, str):
        return [_row(name, label, "raw", None, codec)]

    def encode():
        data = codec.encode(raw)
        if codec.decode(data) != raw:
            raise BenchError(f"the {name} baseline did not decode the raw bytes exactly")
        return data

    data, seconds = step(progress, f"{name}: {len(raw)} raw bytes", encode)
    return [_row(name, codec.label, "raw", codec.version, "ok", len(data), seconds, dims, vaezip_bits)]


def _raw_bytes(pictures: list) -> bytes:
    return b"".join(p.pixels.astype(p.pixels.dtype.newbyteorder("<"), copy=False).tobytes() for p in pictures)


def baselines(pictures: list, names: tuple[str, ...], vaezip_bits: float, progress: Progress = quiet) -> list[dict]:
    """Rows of the baselines ``names`` (order of ``BASELINES``) on ``pictures``; see the module docstring."""
    dims = sum(p.pixels.size for p in pictures)
    rows: list[dict] = []
    for name in BASELINES:
        if name not in names:
            continue
        if name in IMAGE_CODECS:
            rows += _image_rows(name, pictures, dims, vaezip_bits, progress)
        else:
            rows += _bytes_rows(name, _raw_bytes(pictures), dims, vaezip_bits, progress)
    return rows
