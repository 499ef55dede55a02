"""Fashion-MNIST: the official IDX files of the Debian package ``dataset-fashion-mnist``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from vaezip.datasets.files import read_idx
from vaezip.datasets.sources import DEFAULT_FASHION_DIR, FASHION_ENV, DatasetError, check_sha, frozen

_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def fashion_dir() -> Path:
    """Where Fashion-MNIST is looked for: ``$VAEZIP_FASHION_DIR``, else the Debian package's folder."""
    return Path(os.environ.get(FASHION_ENV) or DEFAULT_FASHION_DIR).expanduser()


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
    check_sha(images, f"fashion-{part}-images", str(image_file))
    check_sha(classes, f"fashion-{part}-labels", str(label_file))
    return frozen(images), frozen(classes)
