"""Photographs never start torch: rule 4's prescreen (``vaezip.pipeline.plan``) sends a large picture
without black background to the model-free coder before any model is loaded; digit mosaics still
reach the VAE."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vaezip import api
from vaezip.images import from_array, read_png, write_png
from vaezip.pipeline import plan

ROOT = Path(__file__).resolve().parents[1]

# compress in a fresh process, then say on stdout whether torch was imported
_COMPRESS_AND_REPORT = """
import sys
from vaezip.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
print("torch" in sys.modules)
"""


def photo(height: int, width: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A synthetic photograph: smooth shading plus sensor noise, no pixel at 0 to speak of."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    planes = [128 + 60 * np.sin(6 * x + 3 * y + c) + 40 * np.cos(9 * x * y) for c in range(channels)]
    shaded = np.stack(planes, axis=-1) + rng.normal(0, 6, (height, width, channels))
    image = np.clip(shaded, 0, 255).astype(np.uint8)
    return image[:, :, 0] if channels == 1 else image


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_a_megapixel_photo_is_compressed_without_torch(tmp_path, channels, mode):
    source = tmp_path / "photo.png"
    picture = from_array(photo(1000, 1000, channels), mode=mode, name="photo.png")
    write_png(picture, source)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _COMPRESS_AND_REPORT, "compress", str(source),
                           "-o", str(tmp_path / "photo.vz")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    (back,) = api.decompress((tmp_path / "photo.vz").read_bytes())
    assert np.array_equal(back.pixels, read_png(source.read_bytes()).pixels)


def test_large_pictures_with_background_still_reach_the_prescreened_probe():
    key = (28, 28, "L")
    dark = photo(300, 300)
    dark[::28, :] = 0  # a few black rows: not enough background in any tile
    assert not plan._worth_probing(from_array(dark), key)
    digits = np.zeros((300, 300), dtype=np.uint8)
    digits[10:20, 10:290] = 200  # strokes on black
    assert plan._worth_probing(from_array(digits), key)
    assert plan._worth_probing(from_array(photo(100, 100)), key)  # 9 full tiles: below the prescreen size


def test_a_photo_is_planned_model_free_without_loading_a_model(monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("the model was consulted")

    monkeypatch.setattr(plan, "_tile_costs", no_model)
    monkeypatch.setattr(plan, "_quick_neg_elbo", no_model)
    name, coders, _, tiles = plan.plan([from_array(photo(300, 300))])
    assert name == "none" and not tiles
