"""Likelihoods made autoregressive by a small causal head, coded pixel by pixel in Numba.

A decoder network maps z to per-pixel features ``(B, C, H, W)`` once per
image. The head turns pixel ``(i, j)``'s features plus its already-coded
neighbours into that pixel's distribution parameters (see
``vaezip.models.head.export_head`` for the weights and ``docs/models.md``)::

    u = v * 2 / (n_values - 1) - 1                      (normalized pixel values)
    a = features[:, i, j] + sum_n conv_w[n] * u[i + dy_n, j + dx_n]   (inside the image only)
    h = relu(a);  h = relu(layer_w[l] @ h + layer_b[l]) for each layer l
    params = out_w @ h + out_b

The same loops run the *integer* head of format version 3
(``vaezip.models.integer``, ``docs/format.md``): integer-valued weights,
pixels as ``t = 2v - (n_values - 1)``, features times ``2**feature_shift``,
and after each layer the exact sum times ``2**-shift``, floored and clamped.
Every value is an integer below 2**53, so the float64 arithmetic is exact
in any order; the parameters are those integers times ``2**-param_frac``.

Compression knows every pixel; decompression learns them one by one in
raster order. Both run the same ``_head`` function in the same order, so the
parameters, and the frequency tables built from them, are bit-identical.

- ``AutoregressiveMixture``: params = K logits, K means and K log-scales in
  normalized units; log-scales clamped to ``[LOG_SCALE_MIN, LOG_SCALE_MAX]``;
  then exactly ``LogisticMixture``'s quantization (deterministic softmax);
  scales are ``exp`` of the log-scale snapped to the grid (``detmath.exp_grid``).
- ``AutoregressiveBernoulli``: one logit per pixel, quantized as
  ``Bernoulli(logit=...)``.
"""

from __future__ import annotations

import math

import numpy as np

from vaezip.codecs import bernoulli as _bern
from vaezip.codecs import logistic as _logi
from vaezip.codecs.base import Family, as_symbols, checked_precision
from vaezip.codecs.detmath import SNAP_LIMIT, exp_grid, snap_index
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit

LOG_SCALE_MIN = -7.0
LOG_SCALE_MAX = 3.0


@jit
def _head(feat, u, i, j, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, h, h2, params):
    """Parameters of pixel (i, j) into ``params``; ``u`` holds the (transformed) pixels before it.

    Matrix-vector products run with the input channel outermost
    (``acc[r] += w[c, r] * h[c]`` for c = 0, 1, ...): each output is summed
    in a fixed order, and the inner loop over outputs vectorizes without
    reassociating anything. ``layer_wt`` and ``out_wt`` are the transposed
    weights (input channel first). ``rescale`` (see ``_Autoregressive``)
    holds what makes the same loop the integer head: per layer and output
    a factor (a power of two) applied to each sum, then floor and clamp when
    ``rescale.integer``; the float head has factors 1 and no rounding.
    """
    height, width = u.shape
    channels = h.shape[0]
    fscale, factors, limits, integer = rescale
    for c in range(channels):
        h[c] = feat[i, j, c] * fscale
    for n in range(offsets.shape[0]):
        y = i + offsets[n, 0]
        x = j + offsets[n, 1]
        if 0 <= y < height and 0 <= x < width:
            v = u[y, x]
            for c in range(channels):
                h[c] += conv_w[n, c] * v
    for c in range(channels):
        h[c] = max(h[c], 0.0)
    for layer in range(layer_wt.shape[0]):
        for r in range(channels):
            h2[r] = layer_b[layer, r]
        for c in range(channels):
            hc = h[c]
            for r in range(channels):
                h2[r] += layer_wt[layer, c, r] * hc
        for c in range(channels):
            h[c] = max(_rescaled(h2[c], factors[layer, c], limits[layer], integer), 0.0)
    _output(h, out_wt, out_b, rescale, layer_wt.shape[0], params)


@jit
def _output(h, out_wt, out_b, rescale, last, params):
    """``params = out_wt.T @ h + out_b``, summed input channel outermost, then rescaled."""
    _, factors, limits, integer = rescale
    for p in range(params.shape[0]):
        params[p] = out_b[p]
    for c in range(h.shape[0]):
        hc = h[c]
        for p in range(params.shape[0]):
            params[p] += out_wt[c, p] * hc
    for p in range(params.shape[0]):
        params[p] = _rescaled(params[p], factors[last, p], limits[last], integer) * factors[last + 1, 0]


@jit
def _rescaled(acc, factor, limit, integer):
    """``acc * factor``, floored and clamped to ``[-limit, limit]`` for the integer head."""
    y = acc * factor
    if integer:
        y = min(max(math.floor(y), -limit), limit)
    return y


@jit
def _mixture(params, k, half_range, weights, means, inv_scales):
    """Mixture weights, means and inverse scales in pixel units from the head's raw output."""
    _logi._softmax(params[:k], weights)
    for m in range(k):
        means[m] = (params[k + m] + 1.0) * half_range
        ls = min(max(params[2 * k + m], LOG_SCALE_MIN), LOG_SCALE_MAX)
        inv_scales[m] = 1.0 / (exp_grid(snap_index(ls, SNAP_LIMIT)) * half_range)


@jit
def _pixel_interval(v, params, k, n, span, precision, weights, means, inv_scales):
    """``(start, freq)`` of value ``v`` under the head's output: K-logistic mixture, or Bernoulli when ``k == 0``."""
    if k == 0:
        return _bern._interval(v, params[0], True, precision)
    _mixture(params, k, (n - 1) / 2.0, weights, means, inv_scales)
    c0 = _logi._mix_cdf(v, weights, means, inv_scales, n, span)
    return c0, _logi._mix_cdf(v + 1, weights, means, inv_scales, n, span) - c0


@jit
def _pixel_search(cf, params, k, n, span, precision, weights, means, inv_scales):
    """``(v, start, freq)`` of the value whose interval holds ``cf`` (same distributions)."""
    if k == 0:
        v = 0 if cf < (1 << precision) - _bern._freq1(params[0], True, precision) else 1
        start, freq = _bern._interval(v, params[0], True, precision)
        return v, start, freq
    _mixture(params, k, (n - 1) / 2.0, weights, means, inv_scales)
    v, c0, c1 = _logi._mix_search(cf, weights, means, inv_scales, n, span, precision)
    return v, c0, c1 - c0


@jit
def _pop_loop(state, tail, length, fillers, strict, feats, k, n, precision,
              conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, pixel, out):
    """Decode ``out`` image by image in raster order, each pixel from the head as it goes."""
    span = (1 << precision) - n
    scale, shift = pixel
    h, h2, params = np.empty(conv_w.shape[1]), np.empty(conv_w.shape[1]), np.empty(out_wt.shape[1])
    weights, means, inv_scales = np.empty(max(k, 1)), np.empty(max(k, 1)), np.empty(max(k, 1))
    batch, height, width = out.shape
    u = np.empty((height, width))
    status = rk.OK
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                _head(feats[b], u, i, j, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, h, h2, params)
                cf = int(rk.peek(state, precision))
                v, start, freq = _pixel_search(cf, params, k, n, span, precision, weights, means, inv_scales)
                state, length, fillers, status = rk.pop_step(
                    state, tail, length, fillers, strict, start, freq, precision
                )
                if status != rk.OK:
                    return state, length, fillers, status
                out[b, i, j] = v
                u[i, j] = v * scale + shift
    return state, length, fillers, status


@jit
def _head_inputs(image, scale, shift, u):
    """The head's inputs ``u = v * scale + shift`` of one known image's pixel values ``v``."""
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            u[i, j] = image[i, j] * scale + shift


@jit
def _interval_loop(x, feats, k, n, precision, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, pixel,
                   starts, freqs):
    """Intervals of every pixel of known images ``x`` (the compress side)."""
    span = (1 << precision) - n
    scale, shift = pixel
    h, h2, params = np.empty(conv_w.shape[1]), np.empty(conv_w.shape[1]), np.empty(out_wt.shape[1])
    weights, means, inv_scales = np.empty(max(k, 1)), np.empty(max(k, 1)), np.empty(max(k, 1))
    batch, height, width = x.shape
    u = np.empty((height, width))
    for b in range(batch):
        _head_inputs(x[b], scale, shift, u)
        for i in range(height):
            for j in range(width):
                _head(feats[b], u, i, j, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, h, h2, params)
                starts[b, i, j], freqs[b, i, j] = _pixel_interval(
                    x[b, i, j], params, k, n, span, precision, weights, means, inv_scales
                )


@jit
def _params_loop(x, feats, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, pixel, out):
    """The head's parameters at every pixel of known images ``x``, into ``out`` (B, H, W, P)."""
    scale, shift = pixel
    h, h2 = np.empty(conv_w.shape[1]), np.empty(conv_w.shape[1])
    batch, height, width = x.shape
    u = np.empty((height, width))
    for b in range(batch):
        _head_inputs(x[b], scale, shift, u)
        for i in range(height):
            for j in range(width):
                _head(feats[b], u, i, j, conv_w, offsets, layer_wt, layer_b, out_wt, out_b, rescale, h, h2, out[b, i, j])


def _rescaling(weights: dict, layers: int, channels: int, params: int, n: int) -> tuple:
    """``(rescale, pixel)`` kernel arguments: the float head's (factors 1, no rounding, u = 2v/(n-1) - 1)
    or, when ``weights`` has ``out_shift``, the integer head's (``vaezip.models.integer``: factors
    ``2**-shift``, floor and clamp, features times ``2**feature_shift``, t = 2v - (n-1), and the
    parameters times ``2**-param_frac``)."""
    width = max(channels, params)
    factors = np.ones((layers + 2, width))
    limits = np.full(layers + 1, np.inf)
    if "out_shift" not in weights:
        return (1.0, factors, limits, False), (2.0 / (n - 1), -1.0)
    shifts = [np.asarray(s, dtype=np.int64) for s in weights["layer_shift"]] + [np.asarray(weights["out_shift"])]
    for layer, shift in enumerate(shifts):
        if np.any(shift < 0) or np.any(shift > 62):
            raise ValueError("integer head shifts must be in 0..62")
        factors[layer, :len(shift)] = np.exp2(-shift.astype(np.float64))
    factors[layers + 1, 0] = 2.0 ** -int(weights["param_frac"])
    limits[:] = np.asarray(list(weights["layer_limit"]) + [weights["out_limit"]], dtype=np.float64)
    return (float(2 ** int(weights["feature_shift"])), factors, limits, True), (2.0, -float(n - 1))


class _Autoregressive(Family):
    """Shared set-up, push and pop; ``k`` mixture components, or 0 for a Bernoulli pixel."""

    _params_per_pixel: int
    k: int

    def __init__(self, weights: dict, precision: int):
        self.n = int(np.asarray(weights["n_values"]).ravel()[0])
        self.precision = checked_precision(precision, self.n)
        conv_w = np.ascontiguousarray(weights["conv_w"], dtype=np.float64)
        channels = conv_w.shape[1]
        self.head = (
            conv_w,
            np.ascontiguousarray(weights["offsets"], dtype=np.int64),
            # transposed so that the kernels read input channels outermost
            np.ascontiguousarray(
                np.asarray(weights["layer_w"], dtype=np.float64).reshape(-1, channels, channels).transpose(0, 2, 1)
            ),
            np.ascontiguousarray(weights["layer_b"], dtype=np.float64).reshape(-1, channels),
            np.ascontiguousarray(np.asarray(weights["out_w"], dtype=np.float64).T),
            np.ascontiguousarray(weights["out_b"], dtype=np.float64),
        )
        offsets = self.head[1]
        if offsets.ndim != 2 or offsets.shape[1] != 2 or np.any(
            (offsets[:, 0] > 0) | ((offsets[:, 0] == 0) & (offsets[:, 1] >= 0))
        ):
            raise ValueError("head offsets must point only at pixels before the current one in raster order")
        if self.head[4].shape != (channels, self._params_per_pixel):
            raise ValueError(
                f"head output weights have shape {self.head[4].T.shape}, "
                f"expected ({self._params_per_pixel}, {channels})"
            )
        self.channels = channels
        self.head = self.head + _rescaling(weights, self.head[2].shape[0], channels, self._params_per_pixel, self.n)

    def _features(self, features, shape=None) -> np.ndarray:
        """``(B, H, W, C)`` features, float32 or float64 as given (the kernels widen float32 exactly).

        No copy when ``features`` is a channels-last view (a torch network
        run in ``torch.channels_last`` gives one).
        """
        feats = np.asarray(features)
        if feats.dtype not in (np.float32, np.float64):
            feats = feats.astype(np.float64)
        if feats.ndim != 4 or feats.shape[1] != self.channels:
            raise ValueError(f"features must have shape (B, {self.channels}, H, W), got {feats.shape}")
        if shape is not None and (feats.shape[0], feats.shape[2], feats.shape[3]) != tuple(shape):
            raise ValueError(f"features of shape {feats.shape} do not match images of shape {tuple(shape)}")
        if not np.all(np.isfinite(feats)):
            raise ValueError("features must be finite")
        return np.ascontiguousarray(feats.transpose(0, 2, 3, 1))

    def _images(self, symbols) -> np.ndarray:
        symbols = np.asarray(symbols)
        if symbols.ndim != 3:
            raise ValueError(f"images must have shape (B, H, W), got {symbols.shape}")
        return as_symbols(symbols, self.n, "pixels").reshape(symbols.shape)

    def interval(self, symbols, *, features):
        """``(start, freq)`` of every pixel, from the same head and quantization as push/pop."""
        x = self._images(symbols)
        feats = self._features(features, x.shape)
        starts = np.empty(x.shape, dtype=np.int64)
        freqs = np.empty(x.shape, dtype=np.int64)
        _interval_loop(x, feats, self.k, self.n, self.precision, *self.head, starts, freqs)
        return starts, freqs

    def params(self, symbols, *, features) -> np.ndarray:
        """The head's raw parameters (B, P, H, W) at every pixel of known images (what push and pop
        quantize; for tests and inspection)."""
        x = self._images(symbols)
        feats = self._features(features, x.shape)
        out = np.empty(x.shape + (self._params_per_pixel,))
        _params_loop(x, feats, *self.head, out)
        return out.transpose(0, 3, 1, 2)

    def push(self, msg, symbols, *, features) -> None:
        """Push every pixel; pop returns them image by image in raster order.

        All pixels are known here, so the head runs over the whole batch
        first and the intervals are pushed afterwards (in reverse).
        """
        starts, freqs = self.interval(symbols, features=features)
        msg.run_push(rk.push_intervals, starts.size, starts.ravel(), freqs.ravel(), self.precision)

    def pop(self, msg, *, features) -> np.ndarray:
        """Pixels of a batch, decoded image by image in raster order (the head runs as they come)."""
        feats = self._features(features)
        out = np.empty(feats.shape[:3], dtype=np.int64)
        msg.run_pop(_pop_loop, feats, self.k, self.n, self.precision, *self.head, out)
        return out


class AutoregressiveMixture(_Autoregressive):
    """Discretized logistic mixture per pixel, parameters from the causal head (K components)."""

    def __init__(self, weights: dict, mixtures: int, precision: int = 16):
        if int(mixtures) < 1:
            raise ValueError(f"mixtures must be at least 1, got {mixtures}")
        self.k = int(mixtures)
        self._params_per_pixel = 3 * self.k
        super().__init__(weights, precision)


class AutoregressiveBernoulli(_Autoregressive):
    """Bernoulli per pixel (binary images), logit from the causal head."""

    _params_per_pixel = 1
    k = 0  # the shared kernels' switch: 0 = Bernoulli

    def __init__(self, weights: dict, precision: int = 16):
        if int(np.asarray(weights["n_values"]).ravel()[0]) != 2:
            raise ValueError("AutoregressiveBernoulli needs a head exported with n_values = 2")
        super().__init__(weights, precision)


@jit
def _grid_scales(log_scales, half_range, out):
    for i in range(log_scales.shape[0]):
        ls = min(max(log_scales[i], LOG_SCALE_MIN), LOG_SCALE_MAX)
        out[i] = exp_grid(snap_index(ls, SNAP_LIMIT)) * half_range


def mixture_scales(log_scales, n_values: int) -> np.ndarray:
    """Pixel-unit scales ``exp(log_scale) * (n_values - 1) / 2`` the way the head's mixtures get them
    (log-scales clamped, ``exp`` of the snapped value from ``detmath``'s tables): the same doubles
    on every machine, for ``LogisticMixture``'s ``scales`` when a network gives raw log-scales."""
    flat = np.ascontiguousarray(log_scales, dtype=np.float64).ravel()
    out = np.empty_like(flat)
    _grid_scales(flat, (n_values - 1) / 2.0, out)
    return out.reshape(np.shape(log_scales))
