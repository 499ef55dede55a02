"""A zoo VAE as a bits-back ``LatentModel`` (numpy in, numpy out).

``TorchLatentModel`` runs the networks in float64 on the CPU without
gradients; the causal head, when the model has one, runs inside the Numba
likelihood codec from ``export_head``'s weights. Everything the coder sees
is a deterministic function of the weights and the batch: the same batch
gives the same parameters on the compress and the decompress side.
"""

from __future__ import annotations

import numpy as np
import torch

from vaezip.codecs import AutoregressiveBernoulli, AutoregressiveMixture, Bernoulli, LogisticMixture
from vaezip.vae import LOG_SCALE_MAX, LOG_SCALE_MIN, VAE, export_head


class TorchLatentModel:
    """Wraps a ``vaezip.vae.VAE`` for ``vaezip.codecs.bitsback``.

    Attributes:
        latent_dim, likelihood: as ``LatentModel`` requires.
        shape: ``(height, width)`` of the images it codes.
        n_values: pixel values per sample (2 for binary models, 256 for 8-bit).
    """

    def __init__(self, model: VAE, precision: int = 16):
        self.model = model.to(torch.float64).eval()
        config = model.config
        self.config = config
        self.latent_dim = config.latent_dim
        self.shape = (config.height, config.width)
        self.n_values = config.n_values
        self.bit_depth = int(np.log2(config.n_values))
        binary = config.likelihood == "bernoulli"
        if config.head:
            weights = export_head(self.model)
            self.likelihood = (
                AutoregressiveBernoulli(weights, precision)
                if binary
                else AutoregressiveMixture(weights, config.mixtures, precision)
            )
        else:
            self.likelihood = Bernoulli(precision) if binary else LogisticMixture(self.bit_depth, precision)

    @torch.no_grad()
    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu, sigma = self.model.encode(torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64)))
        return mu.numpy(), sigma.numpy()

    @torch.no_grad()
    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        features = self.model.decode_features(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float64)))
        features = features.numpy()
        if self.config.head:
            return {"features": features}
        if self.config.likelihood == "bernoulli":
            return {"logit": features[:, 0]}
        return _mixture_params(features, self.config.mixtures, self.n_values)


def _mixture_params(params: np.ndarray, k: int, n_values: int) -> dict[str, np.ndarray]:
    """Factorized mixture parameters (B, 3K, H, W) -> LogisticMixture keyword arguments."""
    p = np.moveaxis(params, 1, -1)
    half = (n_values - 1) / 2.0
    log_scales = np.clip(p[..., 2 * k : 3 * k], LOG_SCALE_MIN, LOG_SCALE_MAX)
    return {"logits": p[..., :k], "means": (p[..., k : 2 * k] + 1.0) * half, "scales": np.exp(log_scales) * half}
