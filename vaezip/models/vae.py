"""PyTorch VAEs for vaezip: networks only, no coding logic.

Two likelihood families, each with and without an autoregressive head:

================  ==============================================  ========
arch              likelihood q(x|z)                               head
================  ==============================================  ========
``bernoulli``     Bernoulli per pixel (binarized images)          no
``bernoulli-ar``  Bernoulli per pixel, from features + neighbours  yes
``bernoulli-mlp`` Bernoulli, 784-100-40 MLP (craystack's size)    no
``logistic``      discretized logistic mixture per pixel          no
``logistic-ar``   discretized logistic mixture, features + nbrs   yes
================  ==============================================  ========

Every model has a Gaussian posterior p(z|x) = N(mu, sigma) and a N(0, I)
prior; ``latent_dim`` is configurable.

The interface a coder calls
---------------------------
All tensors are on the CPU; run ``model.double().eval()`` for coding. Images
``x`` are integer pixel values, shape (B, H, W), any numeric dtype.

``model.encode(x) -> (mu, sigma)``
    posterior parameters, each (B, latent_dim).
``model.decode_features(z) -> features``
    per-pixel features (B, C, H, W); evaluated once per image. For a
    factorized model (no head) the features *are* the raw parameters.
``model.head_params(features, x) -> params``
    raw likelihood parameters (B, P, H, W). Pixel (i, j) of ``params``
    depends only on ``features[:, :, i, j]`` and on pixels of ``x`` strictly
    before (i, j) in raster order. ``x`` may be None for a factorized model.
``model.log_prob(params, x) -> (B, H, W)``
    log q(x_ij | ...) in nats, the discrete probability of the exact value.
``model.log_likelihood(x, z) -> (B,)``
    log q(x|z) in nats, summed over pixels.
``model.neg_elbo(x, generator=None) -> (B,)``
    one-sample −ELBO in nats (analytic KL), what training minimizes.

The likelihoods' raw parameters and how to rebuild each distribution are
in ``vaezip.models.likelihoods``; the causal head, which a Numba coder
re-implements, in ``vaezip.models.head``; the configs in ``vaezip.models.config``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vaezip.models.config import VAEConfig, check_config, make_config
from vaezip.models.layers import CausalHead, ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from vaezip.models.likelihoods import bernoulli_log_prob, logistic_mixture_log_prob, normalize

SIGMA_MIN = 1e-4


class VAE(nn.Module):
    """Gaussian-latent VAE with a factorized or causal-head likelihood.

    See the module docstring for the interface and the parameterization.
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        check_config(config)
        self.config = config
        self.n_params = 1 if config.likelihood == "bernoulli" else 3 * config.mixtures
        feature_channels = config.head_hidden if config.head else self.n_params
        if config.net == "conv":
            self.encoder = ConvEncoder(config)
            self.decoder = ConvDecoder(config, feature_channels)
        else:
            self.encoder = MLPEncoder(config)
            self.decoder = MLPDecoder(config, feature_channels)
        self.head = (CausalHead(config.head_hidden, config.head_layers, self.n_params,
                                config.kernel_size) if config.head else None)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_dims(self) -> int:
        """Pixels per image: the 'dimensions' of bits per dimension."""
        return self.config.height * self.config.width

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return normalize(x, self.config.n_values, self.dtype)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior N(mu, sigma) of images x (B, H, W): (mu, sigma), each (B, D)."""
        out = self.encoder(self.normalize(x)[:, None])
        mu, pre_sigma = out.chunk(2, dim=1)
        return mu, F.softplus(pre_sigma) + SIGMA_MIN

    def decode_features(self, z: torch.Tensor) -> torch.Tensor:
        """Per-pixel features (B, C, H, W) of latents z (B, D); once per image."""
        return self.decoder(z.to(self.dtype))

    def head_params(self, features: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        """Raw likelihood parameters (B, P, H, W); x is only read causally."""
        if self.head is None:
            return features
        if x is None:
            raise ValueError("the causal head needs the pixels x")
        return self.head(features, self.normalize(x))

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log q(x_ij | params_ij) in nats, (B, H, W), exact discrete values."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_prob(params, x)
        return logistic_mixture_log_prob(params, x, self.config.mixtures, self.config.n_values)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log q(x|z) in nats, (B,)."""
        params = self.head_params(self.decode_features(z), x)
        return self.log_prob(params, x).flatten(1).sum(dim=1)

    def neg_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One-sample −ELBO in nats per image (B,): −log q(x|z) + KL(p(z|x) || N(0, I))."""
        mu, sigma = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + sigma * eps
        return kl_standard_normal(mu, sigma) - self.log_likelihood(x, z)


def kl_standard_normal(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma) || N(0, I)) in nats, summed over the last axis."""
    return 0.5 * (mu.square() + sigma.square() - 1.0 - 2.0 * torch.log(sigma)).sum(dim=-1)


def build_model(arch: str, **overrides) -> VAE:
    """A freshly initialized VAE of the named arch (see ARCHS)."""
    return VAE(make_config(arch, **overrides))


def model_from_config(config: dict | VAEConfig) -> VAE:
    """A freshly initialized VAE from a stored config dict."""
    if isinstance(config, dict):
        config = VAEConfig.from_dict(config)
    return VAE(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
