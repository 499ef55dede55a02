"""The likelihoods q(x|z) in torch: Bernoulli and the discretized logistic mixture.

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
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

LOG_SCALE_MIN = -7.0
LOG_SCALE_MAX = 3.0


def normalize(x: torch.Tensor, n_values: int, dtype: torch.dtype) -> torch.Tensor:
    """Pixel values 0..n_values-1 -> u in [-1, 1] (see the module docstring)."""
    return x.to(dtype) * (2.0 / (n_values - 1)) - 1.0


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
