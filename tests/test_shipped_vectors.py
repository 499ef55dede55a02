"""Files coded with the shipped models decode to the committed sample, in every format version.

``tests/vectors/vz/vN-MODEL-40.vz`` holds the first 40 digits of the shipped
sample (``vaezip.datasets.load("sample")``; for ``mnist-bin`` thresholded at
127 to 0/1) compressed with the shipped model ``MODEL`` in format version N:

- version 1 by vaezip 0.1.0 (commit b9e723a), ``api.compress(to_pictures(images), model=MODEL)``:
  its networks ran in torch's default memory format;
- version 2 by this vaezip (``GENERATE_EXPECTED=1`` rewrites them): channels-last networks.

Decoding must give the sample back exactly, with the networks each version
prescribes; and this vaezip must write the version-2 files byte for byte
again. When a shipped model is retrained these files no longer match its
weights and the tests say so: regenerate the version-2 files, and drop the
version-1 files of that model (no later vaezip can write them).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vaezip import api, zoo
from vaezip import container as vz
from vaezip.bench import to_pictures
from vaezip.datasets import load

VECTORS = Path(__file__).parent / "vectors" / "vz"
MODELS = ("mnist", "mnist-bin")


def sample(model: str) -> np.ndarray:
    digits = load("sample")[:40]
    return (digits > 127).astype(np.uint8) if model == "mnist-bin" else digits


def vector_names() -> list[str]:
    return sorted(p.name for p in VECTORS.glob("v*.vz"))


def test_every_version_and_model_has_a_vector():
    assert {f"v{v}-{m}-40.vz" for v in (1, 2) for m in MODELS} <= set(vector_names())


@pytest.mark.parametrize("name", vector_names())
def test_shipped_model_vector_decodes(name):
    data = (VECTORS / name).read_bytes()
    header = vz.read_header(data).header
    version, model = int(name[1]), name.split("-", 1)[1].rsplit("-", 1)[0]
    assert (header.version, header.model) == (version, model)
    sha = bytes.fromhex(zoo.get_info(model).sha256)
    assert vz.weights_id(sha, version) == header.model_sha256, (
        f"{name} was coded with other weights of {model}: see this module's docstring"
    )
    pictures = api.decompress(data)
    want = sample(model)
    assert len(pictures) == len(want)
    for picture, image in zip(pictures, want):
        assert np.array_equal(picture.pixels.reshape(image.shape), image)


@pytest.mark.parametrize("model", MODELS)
def test_version_2_vector_is_what_this_vaezip_writes(model):
    data, _ = api.compress(to_pictures(sample(model)), model=model)
    path = VECTORS / f"v2-{model}-40.vz"
    if os.environ.get("GENERATE_EXPECTED"):
        path.write_bytes(data)
    assert data == path.read_bytes()
