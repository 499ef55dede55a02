"""Tiny seeded numpy models implementing ``LatentModel``, for bits-back tests."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.gaussian import GaussianLatent
from vaezip.codecs.logistic import DiscretizedLogistic


class ToyLogisticVAE:
    """A linear-tanh VAE over ``side x side`` 8-bit images with a discretized logistic likelihood."""

    def __init__(self, side: int = 6, latent_dim: int = 4, seed: int = 0, precision: int = 16):
        rng = np.random.default_rng(seed)
        self.side = side
        self.latent_dim = latent_dim
        pixels = side * side
        self.w_mean = rng.normal(0, 1.5 / np.sqrt(pixels), (pixels, latent_dim))
        self.w_std = rng.normal(0, 0.5 / np.sqrt(pixels), (pixels, latent_dim))
        self.w_dec = rng.normal(0, 1.0, (latent_dim, pixels))
        self.likelihood = DiscretizedLogistic(8, precision)
        self.scale = 6.0

    def encode(self, x):
        u = np.asarray(x, dtype=np.float64).reshape(len(x), -1) / 127.5 - 1.0
        mean = np.tanh(u @ self.w_mean) * 2.0
        std = 0.05 + 0.4 / (1.0 + np.exp(-(u @ self.w_std)))
        return mean, std

    def decode(self, z):
        mean = 127.5 + 120.0 * np.tanh(np.asarray(z) @ self.w_dec)
        return {"mean": mean.reshape(len(z), self.side, self.side), "scale": self.scale}

    def sample(self, count: int, seed: int = 1) -> np.ndarray:
        """Images drawn from the model: z from the prior, x from the likelihood."""
        rng = np.random.default_rng(seed)
        z = rng.normal(size=(count, self.latent_dim))
        mean = self.decode(z)["mean"]
        x = np.round(mean + self.scale * rng.logistic(size=mean.shape))
        return np.clip(x, 0, 255).astype(np.uint8)


def quantized_net_bits(model, latent: GaussianLatent, images: np.ndarray, z: np.ndarray, first: bool) -> float:
    """What bits-back should cost for one image given its coded latent bucket ``z``."""
    x = images[None]
    mean, std = model.encode(x)
    params = model.decode(latent.centres[z[None]])
    bits = model.likelihood.information_bits(x, **params) + latent.latent_bits * model.latent_dim
    if not first:
        bits -= latent.information_bits(z[None], mean=mean, std=std)
    return bits
