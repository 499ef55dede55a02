"""A picture compressed alone pays at most 32 bytes of container (docs/format.md, "One-image files")."""

from __future__ import annotations

import numpy as np
import pytest

from vaezip import api
from vaezip import format as vz
from vaezip.images import Picture

PICTURES = {
    "1x1 grey": (np.array([[7]], np.uint8), "L", vz.CODER_MODEL_FREE),
    "1x3000 grey gradient": ((np.arange(3000) % 256).astype(np.uint8)[None, :], "L", vz.CODER_MODEL_FREE),
    "16x16 RGB": (np.full((16, 16, 3), 9, np.uint8), "RGB", vz.CODER_MODEL_FREE),
    "16x16 RGB noise": (np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8), "RGB",
                        vz.CODER_STORED),
}


@pytest.mark.parametrize("label", sorted(PICTURES))
def test_one_picture_pays_at_most_32_bytes_of_container(label):
    pixels, mode, coder = PICTURES[label]
    data, _ = api.compress([Picture(pixels, mode)])
    contents = vz.read_header(data)
    assert data.startswith(vz.COMPACT_MAGIC) and contents.images[0].coder == coder
    assert len(data) - 4 * contents.streams[0].word_count <= 32
    (back,) = api.decompress(data)
    assert np.array_equal(back.pixels.reshape(pixels.shape), pixels)


def test_a_name_costs_its_bytes_and_two():
    pixels, mode, _ = PICTURES["1x1 grey"]
    named, _ = api.compress([Picture(pixels, mode, name="image.png")])
    plain, _ = api.compress([Picture(pixels, mode)])
    assert len(named) - len(plain) == len("image.png") + 2
    assert api.decompress(named)[0].name == "image.png"
