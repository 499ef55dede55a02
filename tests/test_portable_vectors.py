"""Version-3 files decode on every machine: committed vectors, checked everywhere, never skipped.

``tests/vectors/v3/v3-MODEL-40.vz`` holds the first 40 images of the
shipped sample (``sample-fashion`` for the fashion models; thresholded at 127
for the binary ones) compressed with the shipped model ``MODEL`` in format
version 3, ``api.compress(to_pictures(images), model=MODEL)``. Version 3
codes with the integer networks, whose every output is an exact function of
the input, so these files must decode to their images on whatever machine
runs the tests, and this vaezip must write them again byte for byte (the
encoder is as deterministic as the decoder).

When a shipped model is retrained or reconverted, its old entry is retired
first (``zoo.retire_model``), the old vector is kept as
``v3-MODEL-40-<old integer sha256[:8]>.vz`` (decoded, not rewritten), and
``python tests/test_portable_vectors.py`` writes the current ones.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from vaezip import api
from vaezip import format as vz
from vaezip.bench import to_pictures
from vaezip.datasets import load
from vaezip.models import zoo

VECTORS = Path(__file__).parent / "vectors" / "v3"
MODELS = ("mnist", "mnist-bin", "fashion", "mnist-fact", "mnist-bin-fact", "fashion-fact", "mnist-bin-mlp")
NAME = re.compile(r"v3-(.+)-40(?:-([0-9a-f]{8}))?\.vz")


def sample(model: str) -> np.ndarray:
    images = load("sample-fashion" if model.startswith("fashion") else "sample")[:40]
    return (images > 127).astype(np.uint8) if zoo.get_info(model).config["n_values"] == 2 else images


def vectors() -> list[str]:
    return sorted(p.name for p in VECTORS.glob("v3-*.vz"))


def test_every_shipped_model_has_a_vector():
    assert {NAME.fullmatch(name).group(1) for name in vectors()} >= set(MODELS)


@pytest.mark.parametrize("name", vectors())
def test_version_3_vector_decodes_on_this_machine(name):
    model, old = NAME.fullmatch(name).groups()
    data = (VECTORS / name).read_bytes()
    header = vz.read_header(data).header
    assert (header.version, header.model) == (3, model)
    info = zoo.find_weights(model, lambda sha: vz.weights_id(bytes.fromhex(sha), 3) == header.model_sha256,
                            integer=True)
    assert (info.integer_sha256 == zoo.get_info(model).integer_sha256) == (old is None)
    pictures = api.decompress(data)  # a failure here is a portability bug: never skipped
    want = sample(model)
    assert len(pictures) == len(want)
    for picture, image in zip(pictures, want):
        assert np.array_equal(picture.pixels[:, :, 0], image)


@pytest.mark.parametrize("model", MODELS)
def test_version_3_vector_is_what_this_vaezip_writes(model):
    data, _ = api.compress(to_pictures(sample(model)), model=model)
    assert data == (VECTORS / f"v3-{model}-40.vz").read_bytes()


def write_vectors() -> None:
    VECTORS.mkdir(parents=True, exist_ok=True)
    for model in MODELS:
        data, _ = api.compress(to_pictures(sample(model)), model=model)
        (VECTORS / f"v3-{model}-40.vz").write_bytes(data)


if __name__ == "__main__":
    write_vectors()
    sys.exit(0)
