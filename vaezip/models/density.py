"""Density estimates of a VAE: −ELBO and importance-sampled −log q(x), in bits.

For an image x with posterior p(z|x), prior q(z) = N(0, I) and likelihood
q(x|z) (the model's discrete probability of the exact pixel values):

* −ELBO = E_{z~p(z|x)}[−log q(x|z)] + KL(p(z|x) || q(z)), the expectation
  estimated with the K samples below and the KL in closed form. This is the
  rate bits-back coding approaches with one latent sample.
* the importance-sampled estimate with K samples z_k ~ p(z|x),
  −log (1/K) Σ_k q(x|z_k) q(z_k) / p(z_k|x), computed with log-sum-exp.
  It approaches −log q(x) from above as K grows (in expectation) and is
  the rate of BB-IS coding with K particles.

Both work for any object with ``encode(x) -> (mu, sigma)`` and
``log_likelihood(x, z) -> (B,)`` in nats; ``n_dims`` comes from the image
shape. Work is split into batches of images and chunks of samples so that
at most ``max_rows`` decoder evaluations are alive at once. Results are
seeded: the same seed and batching give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vaezip.models.vae import kl_standard_normal

LOG_2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class DensityEstimate:
    """Per-image and mean figures; bits are totals per image."""

    neg_elbo_bits: np.ndarray  # (N,)
    is_bits: np.ndarray  # (N,) importance-sampled −log q(x)
    n_samples: int
    n_dims: int

    @property
    def neg_elbo_bpd(self) -> float:
        return float(self.neg_elbo_bits.mean() / self.n_dims)

    @property
    def is_bpd(self) -> float:
        return float(self.is_bits.mean() / self.n_dims)

    def summary(self) -> dict:
        return {"neg_elbo_bpd": self.neg_elbo_bpd, "is_bpd": self.is_bpd,
                "importance_samples": self.n_samples, "images": int(self.is_bits.size)}


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, sigma) in nats, summed over the last axis."""
    return (-0.5 * ((z - mu) / sigma).square() - torch.log(sigma) - 0.5 * LOG_2PI).sum(dim=-1)


def batch_log_weights(model, x: torch.Tensor, n_samples: int, generator: torch.Generator,
                      max_rows: int):
    """Importance log-weights (B, K) and reconstruction log q(x|z_k) (B, K) in nats.

    log w_k = log q(x|z_k) + log q(z_k) − log p(z_k|x), with z_k ~ p(z|x).
    """
    mu, sigma = model.encode(x)
    batch, dim = mu.shape
    # all samples drawn up front, so the result does not depend on max_rows
    eps_all = torch.randn((batch, n_samples, dim), generator=generator, dtype=mu.dtype)
    chunk = max(1, max_rows // batch)
    log_weights, log_likes = [], []
    for start in range(0, n_samples, chunk):
        k = min(chunk, n_samples - start)
        z = mu[:, None] + sigma[:, None] * eps_all[:, start:start + k]
        x_rep = x[:, None].expand(batch, k, *x.shape[1:]).reshape(batch * k, *x.shape[1:])
        log_like = model.log_likelihood(x_rep, z.reshape(batch * k, dim)).view(batch, k)
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.ones_like(z))
        log_posterior = gaussian_log_density(z, mu[:, None], sigma[:, None])
        log_weights.append(log_like + log_prior - log_posterior)
        log_likes.append(log_like)
    return torch.cat(log_weights, dim=1), torch.cat(log_likes, dim=1), mu, sigma


@torch.no_grad()
def estimate(model, images, n_samples: int = 100, batch_size: int = 64, seed: int = 0,
             max_rows: int = 512, progress=None) -> DensityEstimate:
    """−ELBO and the K-sample importance-sampled −log q(x) of ``images`` (N, H, W).

    ``images`` are integer pixel values (numpy or torch). ``progress``, if
    given, is called with the number of images done after each batch.
    """
    if n_samples < 1:
        raise ValueError("n_samples must be at least 1")
    images = torch.as_tensor(np.asarray(images))
    generator = torch.Generator().manual_seed(seed)
    n_dims = math.prod(images.shape[1:])
    elbo_nats, is_nats = [], []
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size]
        log_w, log_like, mu, sigma = batch_log_weights(model, x, n_samples, generator, max_rows)
        is_nats.append(math.log(n_samples) - torch.logsumexp(log_w, dim=1))
        elbo_nats.append(kl_standard_normal(mu, sigma) - log_like.mean(dim=1))
        if progress is not None:
            progress(x.shape[0])
    to_bits = lambda parts: torch.cat(parts).double().numpy() / LOG_2  # noqa: E731
    return DensityEstimate(neg_elbo_bits=to_bits(elbo_nats), is_bits=to_bits(is_nats),
                           n_samples=n_samples, n_dims=n_dims)


def estimate_zoo(name: str, images, **kwargs) -> DensityEstimate:
    """``estimate`` for a zoo model, loaded (and verified) in float64."""
    from vaezip.models.zoo import load_model

    return estimate(load_model(name), images, **kwargs)


def zoo_density_model(name: str, integer: bool = True):
    """What a zoo model's estimates describe: its integer network (``IntegerDensityModel``: what format
    version 3 codes with) when it has one and ``integer`` is set, else its float network (float32)."""
    from vaezip.models import zoo

    info = zoo.get_info(name)
    if integer and info.integer_sha256:
        from vaezip.models.integer.adapter import IntegerDensityModel

        return IntegerDensityModel(zoo.load_integer(name, info=info), zoo.load_model(name, info=info))
    return zoo.load_model(name, dtype=torch.float32, info=info)
