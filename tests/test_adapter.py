"""The adapter's output grid: float32 rounding equals the float64 rounding."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vaezip.adapter import OUTPUT_GRID_BITS, _on_grid  # noqa: E402


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
