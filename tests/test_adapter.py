"""The adapter's output grid: float32 rounding equals the float64 rounding."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vaezip.models.adapter import OUTPUT_GRID_BITS, _on_grid  # noqa: E402


def _float64_rounding(values: np.ndarray) -> np.ndarray:
    scale = float(1 << OUTPUT_GRID_BITS)
    return np.round(values.astype(np.float64) * scale) / scale


def test_float32_rounding_is_the_float64_rounding():
    rng = np.random.default_rng(0)
    parts = [
        rng.normal(0, 1, 100_000), rng.normal(0, 300, 100_000), rng.uniform(-1e6, 1e6, 10_000),
        (rng.integers(-2**20, 2**20, 10_000) + 0.5) / 2**16,  # exact ties on the grid
        (rng.integers(-2**20, 2**20, 10_000) + 0.5) / 2**17,
        np.array([0.0, -0.0, 2.0**-17, -2.0**-17, 3 * 2.0**-17, 255.99999, 256.0, 1e30, -1e30]),
    ]
    values = np.concatenate(parts).astype(np.float32)
    got = _on_grid(torch.from_numpy(values))
    assert got.dtype == np.float64
    assert np.array_equal(got, _float64_rounding(values))


def test_head_features_stay_float32_and_channels_last(tiny_zoo_dir):
    """The head gets the decoder's float32 grid values without a copy, and codes them as float64 would."""
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel

    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (5, 8, 8))
    z = rng.normal(size=(5, 3))
    for channels_last in (False, True):
        model = TorchLatentModel(zoo.load_model("tiny", tiny_zoo_dir), 16, channels_last=channels_last)
        features = model.decode(z)["features"]
        assert features.dtype == np.float32 and features.shape == (5, 4, 8, 8)
        assert np.shares_memory(model.likelihood._features(features), features) == channels_last
        wide = model.likelihood.interval(x, features=features.astype(np.float64))
        for got, want in zip(model.likelihood.interval(x, features=features), wide):
            assert np.array_equal(got, want)


def test_each_memory_format_is_deterministic(tiny_zoo_dir):
    """Both layouts give the same values run after run; api picks one by the file's format version."""
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel

    z = np.random.default_rng(2).normal(size=(16, 3))
    runs = {cl: [TorchLatentModel(zoo.load_model("tiny", tiny_zoo_dir), 16, channels_last=cl).decode(z)["features"]
                 for _ in range(2)] for cl in (False, True)}
    for first, second in runs.values():
        assert np.array_equal(first, second)
    assert runs[True][0].strides != runs[False][0].strides
