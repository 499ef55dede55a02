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

Raw parameters and how to rebuild the distribution
--------------------------------------------------
Pixel values v are integers 0..n_values−1 (n_values = 2 for Bernoulli, 256
for 8-bit). Networks see them normalized:
``u = v * (2 / (n_values - 1)) - 1``, so u lies in [−1, 1].

Bernoulli (P = 1): ``params[:, 0]`` is a logit; q(v = 1) = sigmoid(logit).

Discretized logistic mixture (P = 3K, K = ``mixtures``):

* ``params[:, 0:K]``   mixture logits; weights = softmax over the K.
* ``params[:, K:2K]``  means, in the normalized units u (not clamped; the
  pixel-unit mean is ``(mean + 1) * (n_values - 1) / 2``).
* ``params[:, 2K:3K]`` log-scales, in normalized units; the scale is
  ``exp(clamp(log_scale, LOG_SCALE_MIN, LOG_SCALE_MAX))``.

Value v owns the bin ``[u - h, u + h]`` with ``h = 1 / (n_values - 1)``;
the edge bins are open: v = 0 owns (−inf, u + h] and v = n_values − 1 owns
[u − h, +inf). Each component's probability of v is
``F((u + h - mean) / scale) - F((u - h - mean) / scale)`` with F the
logistic sigmoid, and q(v) is the weighted sum over components.

The same distribution in pixel units (bins [v − 0.5, v + 0.5], the units of
``vaezip.codecs.logistic``) has ``mean_px = (mean + 1) * (n_values - 1) / 2``
and ``scale_px = scale * (n_values - 1) / 2``; ``mixture_pixel_params`` does
this conversion in numpy float64.

The causal head (what a Numba coder re-implements)
--------------------------------------------------
With ``features`` f (C channels, C = ``head_hidden``) and normalized pixels
u, the head computes at each pixel (i, j), in this order::

    a = f[:, i, j] + sum_n conv_w[n] * u[i + dy_n, j + dx_n]   # (C,)
    h = relu(a)
    for l in range(n_layers):                                # 1x1 layers
        h = relu(layer_w[l] @ h + layer_b[l])
    params[:, i, j] = out_w @ h + out_b

The neighbours n = 0..N−1 are the offsets (dy, dx) of a k x k masked
convolution of type A (centre excluded), listed in raster order:
dy = −r..0, dx = −r..r, stopping before (0, 0), with r = k // 2. For k = 5
that is 12 neighbours: two full rows above, then the two pixels to the left.
A neighbour outside the image contributes nothing (zero padding of u).
``export_head`` gives these arrays in float64, ``head_params_reference`` is
the plain loop above, and ``causal_offsets(k)`` lists the offsets.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOG_SCALE_MIN = -7.0
LOG_SCALE_MAX = 3.0
SIGMA_MIN = 1e-4
LOG_2 = math.log(2.0)

LIKELIHOODS = ("bernoulli", "logistic")
NETS = ("conv", "mlp")


class ModelConfigError(ValueError):
    """A model configuration that cannot be built."""


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a network; stored in the model zoo."""

    likelihood: str = "logistic"
    head: bool = True
    net: str = "conv"
    height: int = 28
    width: int = 28
    n_values: int = 256
    latent_dim: int = 32
    channels: int = 32
    hidden: int = 100
    head_hidden: int = 32
    head_layers: int = 1
    kernel_size: int = 5
    mixtures: int = 5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "VAEConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ModelConfigError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


ARCHS: dict[str, dict] = {
    "bernoulli": dict(likelihood="bernoulli", head=False, net="conv", n_values=2),
    "bernoulli-ar": dict(likelihood="bernoulli", head=True, net="conv", n_values=2),
    "bernoulli-mlp": dict(likelihood="bernoulli", head=False, net="mlp", n_values=2,
                          latent_dim=40, hidden=100),
    "logistic": dict(likelihood="logistic", head=False, net="conv", n_values=256),
    "logistic-ar": dict(likelihood="logistic", head=True, net="conv", n_values=256),
}


def make_config(arch: str, **overrides) -> VAEConfig:
    """The config of ``arch`` with keyword overrides (e.g. latent_dim=40)."""
    if arch not in ARCHS:
        raise ModelConfigError(f"unknown arch {arch!r}; choose one of {sorted(ARCHS)}")
    config = VAEConfig(**ARCHS[arch])
    try:
        config = replace(config, **overrides)
    except TypeError as error:
        raise ModelConfigError(f"bad config override: {error}") from None
    check_config(config)
    return config


def check_config(config: VAEConfig) -> None:
    """Raise ModelConfigError if ``config`` cannot be built."""
    if config.likelihood not in LIKELIHOODS:
        raise ModelConfigError(f"likelihood must be one of {LIKELIHOODS}")
    if config.net not in NETS:
        raise ModelConfigError(f"net must be one of {NETS}")
    if config.likelihood == "bernoulli" and config.n_values != 2:
        raise ModelConfigError("a Bernoulli likelihood needs n_values = 2")
    if config.n_values < 2:
        raise ModelConfigError("n_values must be at least 2")
    if config.net == "conv" and (config.height % 4 or config.width % 4):
        raise ModelConfigError("the conv net needs height and width divisible by 4")
    if config.kernel_size < 3 or config.kernel_size % 2 == 0:
        raise ModelConfigError("kernel_size must be odd and at least 3")
    for name in ("latent_dim", "channels", "hidden", "head_hidden", "mixtures"):
        if getattr(config, name) < 1:
            raise ModelConfigError(f"{name} must be positive")
    if config.head_layers < 0:
        raise ModelConfigError("head_layers must be >= 0")


def causal_offsets(kernel_size: int) -> np.ndarray:
    """Offsets (dy, dx) of the type-A masked conv, in raster order, (N, 2) int64."""
    r = kernel_size // 2
    offsets = [(dy, dx) for dy in range(-r, 1) for dx in range(-r, r + 1)
               if (dy, dx) < (0, 0)]
    return np.array(offsets, dtype=np.int64)


def normalize(x: torch.Tensor, n_values: int, dtype: torch.dtype) -> torch.Tensor:
    """Pixel values 0..n_values-1 -> u in [-1, 1] (see the module docstring)."""
    return x.to(dtype) * (2.0 / (n_values - 1)) - 1.0


# ---------------------------------------------------------------- layers


class ResBlock(nn.Module):
    """x + conv(act(conv(act(x)))), 3x3 convolutions, same channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class MaskedConv(nn.Conv2d):
    """A k x k convolution of type A: sees only pixels before the centre."""

    def __init__(self, out_channels: int, kernel_size: int) -> None:
        super().__init__(1, out_channels, kernel_size, padding=kernel_size // 2, bias=False)
        mask = torch.zeros(kernel_size, kernel_size)
        r = kernel_size // 2
        for dy, dx in causal_offsets(kernel_size):
            mask[dy + r, dx + r] = 1.0
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, None, padding=self.padding)


class CausalHead(nn.Module):
    """Features + already-coded neighbours -> raw likelihood parameters."""

    def __init__(self, hidden: int, n_layers: int, n_params: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = MaskedConv(hidden, kernel_size)
        self.layers = nn.ModuleList(nn.Conv2d(hidden, hidden, 1) for _ in range(n_layers))
        self.out = nn.Conv2d(hidden, n_params, 1)

    def forward(self, features: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        h = F.relu(features + self.conv(u[:, None]))
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.out(h)


class ConvEncoder(nn.Module):
    """(B, 1, H, W) -> (B, 2 * latent_dim): residual conv net, two downsamplings."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        c = config.channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), ResBlock(c),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.Conv2d(2 * c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.ELU(), nn.Flatten(),
            nn.Linear(2 * c * (config.height // 4) * (config.width // 4), 2 * config.latent_dim),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


class ConvDecoder(nn.Module):
    """(B, latent_dim) -> (B, out_channels, H, W): residual conv net, two upsamplings."""

    def __init__(self, config: VAEConfig, out_channels: int) -> None:
        super().__init__()
        c = config.channels
        self.shape = (2 * c, config.height // 4, config.width // 4)
        self.linear = nn.Linear(config.latent_dim, math.prod(self.shape))
        self.net = nn.Sequential(
            ResBlock(2 * c),
            nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), ResBlock(c),
            nn.ELU(), nn.Conv2d(c, out_channels, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.linear(z).view(-1, *self.shape))


class MLPEncoder(nn.Module):
    """(B, 1, H, W) -> (B, 2 * latent_dim): one hidden layer."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(config.height * config.width, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, 2 * config.latent_dim),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


class MLPDecoder(nn.Module):
    """(B, latent_dim) -> (B, out_channels, H, W): one hidden layer."""

    def __init__(self, config: VAEConfig, out_channels: int) -> None:
        super().__init__()
        self.shape = (out_channels, config.height, config.width)
        self.net = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, math.prod(self.shape)),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.shape)


# ---------------------------------------------------------- likelihoods


def bernoulli_log_prob(params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log q(x) per pixel, params (B, 1, H, W) logits, x (B, H, W) in {0, 1}."""
    logits = params[:, 0]
    bit = x.to(logits.dtype)
    return bit * F.logsigmoid(logits) + (1.0 - bit) * F.logsigmoid(-logits)


def split_mixture(params: torch.Tensor, mixtures: int):
    """(logits, means, log_scales), each (B, K, H, W), log-scales clamped."""
    logits = params[:, :mixtures]
    means = params[:, mixtures:2 * mixtures]
    log_scales = params[:, 2 * mixtures:3 * mixtures].clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)
    return logits, means, log_scales


def logistic_mixture_log_prob(params: torch.Tensor, x: torch.Tensor,
                              mixtures: int, n_values: int) -> torch.Tensor:
    """log q(x) per pixel for the discretized logistic mixture, edge bins open.

    The middle bins use log(F(b) - F(a)) = log F(b) + log F(-a) +
    log(1 - exp(a - b)), which is exact and finite for any a < b.
    """
    logits, means, log_scales = split_mixture(params, mixtures)
    u = normalize(x, n_values, params.dtype)[:, None]
    half = 1.0 / (n_values - 1)
    inv_scale = torch.exp(-log_scales)
    upper = (u - means + half) * inv_scale
    lower = (u - means - half) * inv_scale
    log_middle = (F.logsigmoid(upper) + F.logsigmoid(-lower)
                  + torch.log(-torch.expm1(-2.0 * half * inv_scale)))
    v = x[:, None]
    log_bin = torch.where(v == 0, F.logsigmoid(upper),
                          torch.where(v == n_values - 1, F.logsigmoid(-lower), log_middle))
    return torch.logsumexp(F.log_softmax(logits, dim=1) + log_bin, dim=1)


def mixture_pixel_params(params: np.ndarray, mixtures: int, n_values: int):
    """Raw mixture parameters (..., 3K), last axis, -> (weights, means, scales).

    Weights are the softmax of the logits; means and scales are in pixel
    units 0..n_values-1, where value v owns [v - 0.5, v + 0.5] and the edge
    bins are open. All float64, each (..., K).
    """
    params = np.asarray(params, dtype=np.float64)
    logits = params[..., :mixtures]
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights = shifted / shifted.sum(axis=-1, keepdims=True)
    half_range = (n_values - 1) / 2.0
    means = (params[..., mixtures:2 * mixtures] + 1.0) * half_range
    log_scales = np.clip(params[..., 2 * mixtures:3 * mixtures], LOG_SCALE_MIN, LOG_SCALE_MAX)
    return weights, means, np.exp(log_scales) * half_range


# --------------------------------------------------------------- the VAE


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


# ------------------------------------------------------ head export


def export_head(model: VAE) -> dict[str, np.ndarray]:
    """The causal head's weights as float64 numpy arrays, for a Numba coder.

    Keys: ``conv_w`` (N, C) neighbour weights in ``offsets`` order;
    ``offsets`` (N, 2) integer-valued (dy, dx); ``layer_w`` (L, C, C) and
    ``layer_b`` (L, C) for the 1x1 hidden layers (L may be 0); ``out_w``
    (P, C), ``out_b`` (P,); ``n_values`` (1,). See the module docstring.
    """
    if model.head is None:
        raise ValueError("this model is factorized: it has no causal head")
    head = model.head
    k = model.config.kernel_size
    r = k // 2
    offsets = causal_offsets(k)
    kernel = head.conv.weight.detach().to(torch.float64)[:, 0]  # (C, k, k)
    conv_w = torch.stack([kernel[:, dy + r, dx + r] for dy, dx in offsets])  # (N, C)
    c = model.config.head_hidden
    if head.layers:
        layer_w = torch.stack([layer.weight.detach()[:, :, 0, 0] for layer in head.layers])
        layer_b = torch.stack([layer.bias.detach() for layer in head.layers])
    else:
        layer_w, layer_b = torch.zeros(0, c, c), torch.zeros(0, c)
    arrays = {
        "conv_w": conv_w,
        "offsets": torch.from_numpy(offsets),
        "layer_w": layer_w,
        "layer_b": layer_b,
        "out_w": head.out.weight.detach()[:, :, 0, 0],
        "out_b": head.out.bias.detach(),
        "n_values": torch.tensor([model.config.n_values]),
    }
    return {key: np.ascontiguousarray(value.to(torch.float64).numpy())
            for key, value in arrays.items()}


def head_params_reference(features: np.ndarray, pixels: np.ndarray,
                          weights: dict[str, np.ndarray]) -> np.ndarray:
    """Plain-loop reference of the causal head: (B, C, H, W), (B, H, W) -> (B, P, H, W).

    Visits pixels in raster order and reads only already-visited pixels, as
    a decompressor must; this is the arithmetic a Numba coder reproduces.
    """
    batch, _, height, width = features.shape
    offsets = weights["offsets"].astype(np.int64)
    conv_w, layer_w, layer_b = weights["conv_w"], weights["layer_w"], weights["layer_b"]
    out_w, out_b = weights["out_w"], weights["out_b"]
    n_values = int(weights["n_values"][0])
    params = np.zeros((batch, out_w.shape[0], height, width))
    for b in range(batch):
        u = np.zeros((height, width))  # pixels not yet visited stay unread
        for i in range(height):
            for j in range(width):
                a = features[b, :, i, j].astype(np.float64).copy()
                for n in range(offsets.shape[0]):
                    y, x = i + offsets[n, 0], j + offsets[n, 1]
                    if 0 <= y < height and 0 <= x < width:
                        a += conv_w[n] * u[y, x]
                h = np.maximum(a, 0.0)
                for layer in range(layer_w.shape[0]):
                    h = np.maximum(layer_w[layer] @ h + layer_b[layer], 0.0)
                params[b, :, i, j] = out_w @ h + out_b
                u[i, j] = pixels[b, i, j] * (2.0 / (n_values - 1)) - 1.0
    return params
