"""A zoo VAE as a bits-back ``LatentModel`` (numpy in, numpy out).

``TorchLatentModel`` runs the encoder and decoder in float32 on the CPU
without gradients (four times faster here than float64) and rounds every
output to the grid ``k / 2**OUTPUT_GRID_BITS`` before the coder sees it; the
causal head, when the model has one, runs inside the Numba likelihood codec
from ``export_head``'s float64 weights. The api runs them with one torch
thread, so the same batch gives the same parameters on the compress and the
decompress side of one machine.

Across machines this does not hold. torch picks its float32 convolution and
matrix kernels by the CPU's vector ISA (oneDNN, MKL), and their last bits
differ: about a fifth of the decoder's outputs land on another grid value
with other kernels (``benchmarks/kernel_portability.py``), so a file coded
where the kernels differ does not decode (a clear error, never a wrong
image: the first image's latent check and the stored checksums catch it).
``kernel_fingerprint`` tells two machines apart: equal fingerprints, same
network outputs on its probe batch.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from vaezip.codecs import AutoregressiveBernoulli, AutoregressiveMixture, Bernoulli, LogisticMixture
from vaezip.models.head import export_head
from vaezip.models.likelihoods import LOG_SCALE_MAX, LOG_SCALE_MIN
from vaezip.models.vae import VAE


OUTPUT_GRID_BITS = 16


def _on_grid32(values: torch.Tensor) -> np.ndarray:
    """float32 ``values`` rounded to multiples of 2**-OUTPUT_GRID_BITS, as numpy (the tensor's strides kept).

    The rounding runs in float32 and gives the float64 result exactly: scaling
    by a power of two is exact, a float32 of magnitude 2**8 or more times
    2**16 is already an integer, and below that the scaled value has at most
    24 significant bits, so it is exact too; round-half-even is the same in
    both (``tests/test_adapter.py`` checks it against the float64 rounding).
    Every result is a float32, so widening it to float64 changes nothing.
    """
    scale = float(1 << OUTPUT_GRID_BITS)
    return torch.round(values * scale).div_(scale).numpy()


def _on_grid(values: torch.Tensor) -> np.ndarray:
    """``_on_grid32`` widened to a float64 copy."""
    return _on_grid32(values).astype(np.float64)


class TorchLatentModel:
    """Wraps a ``vaezip.models.vae.VAE`` for ``vaezip.codecs.bitsback``.

    Attributes:
        latent_dim, likelihood: as ``LatentModel`` requires.
        shape: ``(height, width)`` of the images it codes.
        n_values: pixel values per sample (2 for binary models, 256 for 8-bit).
    """

    def __init__(self, model: VAE, precision: int = 16, channels_last: bool = True):
        self.model = model.to(torch.float32).eval()
        self.channels_last = channels_last
        if channels_last:  # faster convolutions here, other float32 results: part of a file's format version
            self.model = self.model.to(memory_format=torch.channels_last)
        config = model.config
        self.config = config
        self.latent_dim = config.latent_dim
        self.shape = (config.height, config.width)
        self.n_values = config.n_values
        self.bit_depth = int(np.log2(config.n_values))
        binary = config.likelihood == "bernoulli"
        if config.head:
            weights = export_head(self.model)  # float64 copies of the float32 weights
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
        return _on_grid(mu), np.maximum(_on_grid(sigma), 2.0**-OUTPUT_GRID_BITS)

    @torch.no_grad()
    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        features = self.model.decode_features(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)))
        if self.config.head:  # float32 grid values: the head widens them to float64 exactly
            return {"features": _on_grid32(features)}
        features = _on_grid(features)
        if self.config.likelihood == "bernoulli":
            return {"logit": features[:, 0]}
        return _mixture_params(features, self.config.mixtures, self.n_values)


PROBE_IMAGES = 64  # the api's default batch: the kernels a coder runs


def kernel_fingerprint(model: TorchLatentModel, seed: int = 0) -> str:
    """16 hex digits of sha256 over ``model``'s grid outputs on a seeded probe batch.

    The probe is ``PROBE_IMAGES`` images of uniform random pixels; the hash
    covers the posterior means and standard deviations and every decoder
    output at the means. Machines (or torch builds) whose fingerprints differ
    for a model compute other network outputs for it, and files coded on one
    with that model should not be expected to decode on the other.
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, model.n_values, (PROBE_IMAGES, *model.shape))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the coders run them
    try:
        mu, sigma = model.encode(images)
        decoded = model.decode(mu)
    finally:
        torch.set_num_threads(threads)
    digest = hashlib.sha256()
    for values in (mu, sigma, *(decoded[key] for key in sorted(decoded))):
        digest.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def _mixture_params(params: np.ndarray, k: int, n_values: int) -> dict[str, np.ndarray]:
    """Factorized mixture parameters (B, 3K, H, W) -> LogisticMixture keyword arguments."""
    p = np.moveaxis(params, 1, -1)
    half = (n_values - 1) / 2.0
    log_scales = np.clip(p[..., 2 * k : 3 * k], LOG_SCALE_MIN, LOG_SCALE_MAX)
    return {"logits": p[..., :k], "means": (p[..., k : 2 * k] + 1.0) * half, "scales": np.exp(log_scales) * half}
