"""Shared fixtures: a model zoo of tiny, untrained networks (bits-back is exact for any weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaezip.models import zoo

TINY_MODELS = {
    # name: (arch, config overrides)
    "tiny": ("logistic-ar", dict(height=8, width=8, channels=4, head_hidden=4, latent_dim=3, mixtures=2)),
    "tiny-fact": ("logistic", dict(height=8, width=8, channels=4, latent_dim=3, mixtures=2)),
    "tiny-bin": ("bernoulli-ar", dict(height=8, width=8, channels=4, head_hidden=4, latent_dim=3)),
}


def make_zoo(directory: Path, names=tuple(TINY_MODELS), seed: int = 0) -> Path:
    """Write seeded tiny models, their integer networks (calibrated on blobs) and their registry
    into ``directory``."""
    from vaezip.models.integer.publish import publish_integer
    from vaezip.models.train import save_weights
    from vaezip.models.vae import build_model

    for index, name in enumerate(names):
        arch, overrides = TINY_MODELS[name]
        torch.manual_seed(seed + index)
        model = build_model(arch, **overrides)
        path, digest = save_weights(model.state_dict(), name, directory)
        zoo.register_model(
            zoo.ModelInfo(name, arch, model.config.to_dict(), path.name, digest, dataset="synthetic"), directory
        )
        images = blobs(64, model.config.height, seed=seed + index)
        if model.config.n_values == 2:
            images = (images > 127).astype(np.uint8)
        publish_integer(name, directory=directory, images=images, dataset="synthetic blobs")
    return directory


@pytest.fixture(scope="session")
def tiny_zoo_dir(tmp_path_factory) -> Path:
    return make_zoo(tmp_path_factory.mktemp("zoo"))


@pytest.fixture
def tiny_zoo(tiny_zoo_dir, monkeypatch) -> Path:
    monkeypatch.setenv(zoo.ENV_MODELS, str(tiny_zoo_dir))
    return tiny_zoo_dir


def blobs(count: int, side: int = 8, seed: int = 0) -> np.ndarray:
    """Smooth 8-bit blob images (N, side, side)."""
    rng = np.random.default_rng(seed)
    grid = np.arange(side)
    centres = rng.uniform(1, side - 1, (count, 2))
    distance = (grid[None, :, None] - centres[:, 0, None, None]) ** 2 + (
        grid[None, None, :] - centres[:, 1, None, None]
    ) ** 2
    noise = rng.integers(0, 8, (count, side, side))
    return np.clip(240 * np.exp(-distance / 6) + noise, 0, 255).astype(np.uint8)
