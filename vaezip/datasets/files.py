"""Images from files: IDX (gzipped or not), a directory of PNGs or one PNG, ``.npz`` and ``.npy``.

Everything comes back as a stack of images (``as_images``): uint8 or uint16,
(N, H, W) or (N, H, W, C). Pillow is imported only to read a PNG.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from vaezip.datasets.sources import DatasetError

# -- IDX
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _open_binary(path: Path):
    """Open a file for reading, transparently gunzipping it if it starts with the gzip magic."""
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == _GZIP_MAGIC
        return gzip.open(path, "rb") if gzipped else open(path, "rb")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _read_exact(stream, nbytes: int, path: Path, what: str) -> bytes:
    """Read exactly ``nbytes``; a short read is a truncated file."""
    data = stream.read(nbytes)
    if len(data) != nbytes:
        raise DatasetError(f"{path}: truncated IDX file: {what} needs {nbytes} bytes, found {len(data)}")
    return data


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a native-endian array.

    The header is ``0x00 0x00 <dtype code> <ndim>`` then ``ndim`` big-endian
    uint32 sizes, then the data in C order. The magic, the dtype code, the
    number of dimensions and the exact data length are all checked before the
    data is read; a file with missing or extra bytes is a DatasetError.
    """
    path = Path(path)
    try:
        with _open_binary(path) as stream:
            magic = _read_exact(stream, 4, path, "the magic number")
            dtype, ndim = _parse_idx_magic(magic, path)
            dims = struct.unpack(f">{ndim}I", _read_exact(stream, 4 * ndim, path, "the sizes"))
            nbytes = int(np.prod(dims, dtype=object)) * dtype.itemsize
            data = stream.read(nbytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read IDX file: {exc}") from None
    if len(data) != nbytes:
        raise DatasetError(
            f"{path}: IDX header declares shape {tuple(dims)} = {nbytes} bytes of data, "
            f"but the file holds {'more' if len(data) > nbytes else len(data)}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _parse_idx_magic(magic: bytes, path: Path) -> tuple[np.dtype, int]:
    if magic[:2] != b"\0\0":
        raise DatasetError(f"{path}: not an IDX file (magic {magic.hex()} does not start with 0000)")
    code, ndim = magic[2], magic[3]
    if code not in _IDX_DTYPES:
        raise DatasetError(f"{path}: unknown IDX dtype code 0x{code:02x}")
    if ndim == 0:
        raise DatasetError(f"{path}: IDX file declares 0 dimensions")
    return _IDX_DTYPES[code], ndim


def load_idx_images(path: Path) -> np.ndarray:
    array = read_idx(path)
    if array.dtype != np.uint8:
        raise DatasetError(f"{path}: IDX images must be unsigned bytes (code 0x08), got {array.dtype}")
    return as_images(array, str(path))


# -- PNG
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES_WITH_CHANNELS = (2, 4, 6)  # RGB, gray+alpha, RGBA


def _png_bit_depth(path: Path) -> tuple[int, int]:
    """(bit depth, colour type) from a PNG's IHDR chunk, or a DatasetError if it is not a PNG."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(26)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(head) < 26 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise DatasetError(f"{path}: not a PNG file")
    return head[24], head[25]


def read_png_file(path: Path) -> tuple[np.ndarray, str]:
    """One PNG as (H, W) or (H, W, C) uint8/uint16, plus the mode name it was stored in."""
    from PIL import Image  # imported here so that `import vaezip.datasets` stays light

    depth, colour_type = _png_bit_depth(path)
    if depth == 16 and colour_type in _COLOUR_TYPES_WITH_CHANNELS:
        raise DatasetError(f"{path}: 16-bit colour PNGs cannot be read losslessly with Pillow")
    try:
        with Image.open(path) as image:
            image.load()
            return _png_pixels(image, path)
    except DatasetError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot decode PNG: {exc}") from None


def _png_pixels(image, path: Path) -> tuple[np.ndarray, str]:
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=np.uint8), mode  # 0/1, as binarize() makes
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image, dtype=np.uint8), mode
    if mode.startswith("I;16"):
        return np.asarray(image).astype(np.uint16), "I;16"
    if mode == "I":
        pixels = np.asarray(image)
        if pixels.min() < 0 or pixels.max() > 0xFFFF:
            raise DatasetError(f"{path}: 32-bit integer pixels outside the 16-bit range")
        return pixels.astype(np.uint16), "I;16"
    if mode == "P":
        target = "RGBA" if "transparency" in image.info else "RGB"
        return np.asarray(image.convert(target), dtype=np.uint8), target
    raise DatasetError(f"{path}: unsupported PNG mode {mode!r}")


def _png_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    if not files:
        raise DatasetError(f"{directory}: directory holds no .png files")
    return files


def load_png_dir(directory: Path) -> np.ndarray:
    """All PNGs of a directory, sorted by file name; each must match the first in shape and mode."""
    files = _png_files(directory)
    first, first_mode = read_png_file(files[0])
    images = [first]
    for path in files[1:]:
        pixels, mode = read_png_file(path)
        if pixels.shape != first.shape or mode != first_mode:
            raise DatasetError(
                f"{path}: shape {pixels.shape} mode {mode} differs from "
                f"{files[0].name} (shape {first.shape} mode {first_mode}); "
                "a PNG directory must hold images of one shape and mode"
            )
        images.append(pixels)
    return np.stack(images)


# -- npz / npy
def load_numpy_file(path: Path) -> np.ndarray:
    """Images from an ``.npy`` or an ``.npz`` (key ``images``, or its only array)."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return as_images(loaded, str(path))
        with loaded:
            return _pick_npz_array(loaded, path)
    except DatasetError:
        raise
    except Exception as exc:  # zipfile, pickle and format errors all mean the same here
        raise DatasetError(f"{path}: cannot read numpy file: {exc}") from None


def _pick_npz_array(archive, path: Path) -> np.ndarray:
    keys = list(archive.keys())
    if "images" in keys:
        key = "images"
    elif len(keys) == 1:
        key = keys[0]
    else:
        raise DatasetError(f"{path}: npz has no 'images' key and {len(keys)} arrays ({', '.join(keys)})")
    return as_images(archive[key], f"{path}[{key}]")


def as_images(array: np.ndarray, where: str) -> np.ndarray:
    """Check an array is a stack of images, uint8/uint16, (N, H, W) or (N, H, W, C); C == 1 is squeezed."""
    if array.dtype not in (np.uint8, np.uint16):
        raise DatasetError(f"{where}: images must be uint8 or uint16, got {array.dtype}")
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[3] > 4):
        raise DatasetError(f"{where}: expected shape (N, H, W) or (N, H, W, C<=4), got {array.shape}")
    if 0 in array.shape:
        raise DatasetError(f"{where}: holds no pixels (shape {array.shape})")
    return array
