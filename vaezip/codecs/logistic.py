"""Discretized logistic distributions and their mixtures over ``2**bit_depth`` values.

Symbol ``k`` in ``[0, n)``, ``n = 2**bit_depth``, owns the real interval
``[k - 0.5, k + 0.5)`` with the two edge bins open (``(-inf, 0.5)`` and
``[n - 1.5, inf)``), so no mass is lost off the ends. With ``F`` the
logistic cdf (mean and scale in value units, 0..n-1), the quantized
cumulative function is::

    C(0) = 0,   C(n) = 2**precision,
    C(k) = floor(F(k - 0.5) * (2**precision - n)) + k      for 0 < k < n

so every symbol gets ``freq = C(k+1) - C(k) >= 1`` and the frequencies sum
to ``2**precision``. ``F`` is evaluated with ``vaezip.codecs.detmath.sigmoid_grid`` on the
snapped argument, which makes ``C`` identical on every machine and
non-decreasing.

Scales are clamped to ``[SCALE_MIN, SCALE_MAX]`` before use (both sides).
"""

from __future__ import annotations

import numpy as np

from vaezip.codecs.base import (
    BadParameter, Family, as_params, as_symbols, checked_precision, flat_floats, flat_ints, run_intervals,
)
from vaezip.codecs.detmath import SNAP_LIMIT, exp_grid, sigmoid_grid, snap_index
from vaezip.codecs.loops import interval_symbols
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit

SCALE_MIN = 1e-6
SCALE_MAX = 1e9
MAX_BIT_DEPTH = 16


# -- single logistic ------------------------------------------------------------
@jit
def _cdf(k, mean, inv_scale, n, span):
    """C(k) of one discretized logistic (see the module docstring)."""
    if k <= 0:
        return 0
    if k >= n:
        return span + n
    # the product is >= 0, so int() (truncation) is the floor
    return int(sigmoid_grid(snap_index((k - 0.5 - mean) * inv_scale, SNAP_LIMIT)) * span) + k


# logit of the centre of each of 2**_GUESS_BITS equal slices of [0, 1): a
# starting point for the search (any start finds the same symbol, so this
# table need not be bit-identical across machines)
_GUESS_BITS = 10
_LOGIT_GUESS = np.log((np.arange(1 << _GUESS_BITS) + 0.5) / (np.arange(1 << _GUESS_BITS, 0, -1) - 0.5))


@jit
def _search(cf, mean, scale, inv_scale, n, span, precision):
    """The symbol ``x`` with ``C(x) <= cf < C(x+1)``, with ``C(x)`` and ``C(x+1)``.

    Starts at the logistic quantile of ``cf`` (a guess: any start gives the
    same answer) and gallops outwards, then bisects.
    """
    g = mean + scale * _LOGIT_GUESS[(cf << _GUESS_BITS) >> precision] + 0.5
    x = n - 1 if g >= n - 1 else (0 if g <= 0.0 else int(g))
    lo, hi = x, x + 1
    lo_c = _cdf(lo, mean, inv_scale, n, span)
    hi_c = _cdf(hi, mean, inv_scale, n, span)
    if lo_c <= cf < hi_c:  # the usual case: the guess is right
        return lo, lo_c, hi_c
    step = 1
    if lo_c <= cf:  # gallop up; C(n) > cf always stops it
        while hi_c <= cf:
            lo, lo_c = hi, hi_c
            step *= 2
            hi = min(x + step, n)
            hi_c = _cdf(hi, mean, inv_scale, n, span)
    else:  # gallop down; C(0) = 0 <= cf always stops it
        while lo_c > cf:
            hi, hi_c = lo, lo_c
            step *= 2
            lo = max(x - step, 0)
            lo_c = _cdf(lo, mean, inv_scale, n, span)
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        mid_c = _cdf(mid, mean, inv_scale, n, span)
        if mid_c <= cf:
            lo, lo_c = mid, mid_c
        else:
            hi, hi_c = mid, mid_c
    return lo, lo_c, hi_c


@jit
def _valid(x, mean, scale, n):
    """Whether a symbol and its parameters are usable (finite mean, positive finite scale)."""
    return 0 <= x < n and -np.inf < mean < np.inf and 0.0 < scale < np.inf


@jit
def _clamped_inverse(scale):
    return 1.0 / min(max(scale, SCALE_MIN), SCALE_MAX)


@jit(inline="always")
def _interval_at(i, x, params, precision):
    mean, scale, n, span = params
    inv = 1.0 / scale[i]
    return _cdf(x, mean[i], inv, n, span), _cdf(x + 1, mean[i], inv, n, span)


# the kernels (vaezip.codecs.loops for the intervals); push and pop validate as they go
@jit
def _interval_loop(x, mean, scale, n, precision, starts, freqs):
    interval_symbols(_interval_at, x, (mean, scale, n, (1 << precision) - n), precision, starts, freqs)


@jit
def _push_loop(state, tail, length, x, mean, scale, n, precision):
    """Push, validating as it goes; returns ``(state, length, first bad index or -1)``.

    Checking inside the loop costs nothing next to the coding, where numpy
    passes over 10**7 parameters would cost a quarter of it. On a bad index
    the caller keeps its old state and length: nothing below them was touched.
    """
    span = (1 << precision) - n
    for i in range(x.shape[0] - 1, -1, -1):
        if not _valid(x[i], mean[i], scale[i], n):
            return state, length, i
        inv = _clamped_inverse(scale[i])
        c0 = _cdf(x[i], mean[i], inv, n, span)
        c1 = _cdf(x[i] + 1, mean[i], inv, n, span)
        state, length = rk.push_step(state, tail, length, c0, c1 - c0, precision)
    return state, length, -1


@jit
def _pop_loop(state, tail, length, fillers, strict, mean, scale, n, precision, out):
    """Pop ``out.size`` symbols; a bad parameter at index i ends it with status ``-1 - i``."""
    span = (1 << precision) - n
    status = rk.OK
    for i in range(out.shape[0]):
        if not _valid(0, mean[i], scale[i], n):
            return state, length, fillers, -1 - i
        inv = _clamped_inverse(scale[i])
        cf = int(rk.peek(state, precision))
        x, c0, c1 = _search(cf, mean[i], 1.0 / inv, inv, n, span, precision)
        out[i] = x
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, c0, c1 - c0, precision
        )
        if status != rk.OK:
            break
    return state, length, fillers, status


# -- mixture of K logistics ----------------------------------------------------------
@jit
def _softmax(logits, out):
    """Mixture weights from logits: ``exp(logit - max)`` on the snap grid, normalized."""
    top = logits[0]
    for j in range(1, logits.shape[0]):
        if logits[j] > top:
            top = logits[j]
    total = 0.0
    for j in range(logits.shape[0]):
        out[j] = exp_grid(snap_index(logits[j] - top, SNAP_LIMIT))
        total += out[j]
    for j in range(logits.shape[0]):
        out[j] = out[j] / total


@jit
def _mix_cdf(k, weights, means, inv_scales, n, span):
    """C(k) of the mixture (see the module docstring)."""
    if k <= 0:
        return 0
    if k >= n:
        return span + n
    f = 0.0
    for j in range(weights.shape[0]):
        f += weights[j] * sigmoid_grid(snap_index((k - 0.5 - means[j]) * inv_scales[j], SNAP_LIMIT))
    return int(min(f, 1.0) * span) + k  # >= 0: int() is the floor


@jit
def _mix_prepare(i, logits, means, scales, weights, inv_scales):
    _softmax(logits[i], weights)
    for j in range(inv_scales.shape[0]):
        inv_scales[j] = 1.0 / scales[i, j]


@jit
def _mix_search(cf, weights, means, inv_scales, n, span, precision):
    """The symbol ``x`` with ``C(x) <= cf < C(x+1)``; returns ``(x, C(x), C(x+1))``.

    Starts at the quantile of ``cf`` under the heaviest component (a guess)
    and gallops outwards, then bisects.
    """
    top = 0
    for j in range(1, weights.shape[0]):
        if weights[j] > weights[top]:
            top = j
    g = means[top] + _LOGIT_GUESS[(cf << _GUESS_BITS) >> precision] / inv_scales[top] + 0.5
    x = n - 1 if g >= n - 1 else (0 if g <= 0.0 else int(g))
    lo, hi = x, x + 1
    lo_c = _mix_cdf(lo, weights, means, inv_scales, n, span)
    hi_c = _mix_cdf(hi, weights, means, inv_scales, n, span)
    if lo_c <= cf < hi_c:
        return lo, lo_c, hi_c
    step = 1
    if lo_c <= cf:  # gallop up; C(n) > cf always stops it
        while hi_c <= cf:
            lo, lo_c = hi, hi_c
            step *= 2
            hi = min(x + step, n)
            hi_c = _mix_cdf(hi, weights, means, inv_scales, n, span)
    else:  # gallop down; C(0) = 0 <= cf always stops it
        while lo_c > cf:
            hi, hi_c = lo, lo_c
            step *= 2
            lo = max(x - step, 0)
            lo_c = _mix_cdf(lo, weights, means, inv_scales, n, span)
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        mid_c = _mix_cdf(mid, weights, means, inv_scales, n, span)
        if mid_c <= cf:
            lo, lo_c = mid, mid_c
        else:
            hi, hi_c = mid, mid_c
    return lo, lo_c, hi_c


@jit(inline="always")
def _mix_interval_at(i, x, params, precision):
    logits, means, scales, weights, inv_scales, n, span = params
    _mix_prepare(i, logits, means, scales, weights, inv_scales)
    c0 = _mix_cdf(x, weights, means[i], inv_scales, n, span)
    return c0, _mix_cdf(x + 1, weights, means[i], inv_scales, n, span)


# the kernels (vaezip.codecs.loops for the intervals), with scratch for one symbol's weights and
# inverse scales
@jit(inline="always")
def _mix_params(logits, means, scales, n, precision):
    k = logits.shape[1]
    return logits, means, scales, np.empty(k), np.empty(k), n, (1 << precision) - n


@jit
def _mix_interval_loop(x, logits, means, scales, n, precision, starts, freqs):
    interval_symbols(_mix_interval_at, x, _mix_params(logits, means, scales, n, precision), precision, starts, freqs)


@jit
def _mix_push_loop(state, tail, length, x, logits, means, scales, n, precision):
    """Written out: through ``push_symbols`` this push was about 10 % slower (``vaezip.codecs.loops``)."""
    span = (1 << precision) - n
    weights = np.empty(logits.shape[1])
    inv_scales = np.empty(logits.shape[1])
    for i in range(x.shape[0] - 1, -1, -1):
        _mix_prepare(i, logits, means, scales, weights, inv_scales)
        c0 = _mix_cdf(x[i], weights, means[i], inv_scales, n, span)
        c1 = _mix_cdf(x[i] + 1, weights, means[i], inv_scales, n, span)
        state, length = rk.push_step(state, tail, length, c0, c1 - c0, precision)
    return state, length


@jit
def _mix_pop_loop(state, tail, length, fillers, strict, logits, means, scales, n, precision, out):
    """Written out: through ``pop_symbols`` this pop was about 5 % slower (``vaezip.codecs.loops``)."""
    span = (1 << precision) - n
    weights = np.empty(logits.shape[1])
    inv_scales = np.empty(logits.shape[1])
    status = rk.OK
    for i in range(out.shape[0]):
        _mix_prepare(i, logits, means, scales, weights, inv_scales)
        cf = int(rk.peek(state, precision))
        x, c0, c1 = _mix_search(cf, weights, means[i], inv_scales, n, span, precision)
        out[i] = x
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, c0, c1 - c0, precision
        )
        if status != rk.OK:
            break
    return state, length, fillers, status


# -- families ---------------------------------------------------------------------------
def _check_bit_depth(bit_depth: int) -> int:
    if not isinstance(bit_depth, (int, np.integer)) or not 1 <= bit_depth <= MAX_BIT_DEPTH:
        raise ValueError(f"bit_depth must be an integer in 1..{MAX_BIT_DEPTH}, got {bit_depth!r}")
    return int(bit_depth)


def _scales(scale, shape, name="scale") -> np.ndarray:
    return as_params(scale, shape, name, positive_range=(SCALE_MIN, SCALE_MAX))


class DiscretizedLogistic(Family):
    """One logistic (``mean``, ``scale`` in value units) over ``2**bit_depth`` values.

    Parameters broadcast against the symbols on push; on pop the output has
    the broadcast shape of ``mean`` and ``scale``.
    """

    def __init__(self, bit_depth: int = 8, precision: int = 16):
        self.bit_depth = _check_bit_depth(bit_depth)
        self.n = 1 << self.bit_depth
        self.precision = checked_precision(precision, self.n)

    def _params(self, shape, mean, scale):
        return as_params(mean, shape, "mean"), _scales(scale, shape)

    def _bad(self, index, x, mean, scale) -> ValueError:
        if x is not None and not 0 <= x[index] < self.n:
            return ValueError(f"symbols must lie in [0, {self.n}); got {x[index]}")
        if not np.isfinite(mean[index]):
            return ValueError(f"mean must be finite, got {mean[index]}")
        return ValueError(f"scale must be positive and finite, got {scale[index]}")

    def push(self, msg, symbols, *, mean, scale) -> None:
        symbols = np.asarray(symbols)
        x = flat_ints(symbols)
        m, s = flat_floats(mean, symbols.shape, "mean"), flat_floats(scale, symbols.shape, "scale")
        msg.reserve(x.size)
        state, length, bad = _push_loop(msg.state, msg.tail, msg.length, x, m, s, self.n, self.precision)
        if bad >= 0:
            raise self._bad(bad, x, m, s)
        msg.state, msg.length = np.uint64(state), length

    def pop(self, msg, *, mean, scale) -> np.ndarray:
        shape = np.broadcast_shapes(np.shape(mean), np.shape(scale))
        m, s = flat_floats(mean, shape, "mean"), flat_floats(scale, shape, "scale")
        out = np.empty(m.size, dtype=np.int64)
        try:
            msg.run_pop(_pop_loop, m, s, self.n, self.precision, out)
        except BadParameter as error:
            raise self._bad(error.index, None, m, s) from None
        return out.reshape(shape)

    def interval(self, symbols, *, mean, scale):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        m, s = self._params(symbols.shape, mean, scale)
        return run_intervals(_interval_loop, x, symbols.shape, m, s, self.n, self.precision)


class LogisticMixture(Family):
    """A mixture of K discretized logistics over ``2**bit_depth`` values.

    Parameters have shape ``symbols.shape + (K,)``: ``logits`` (mixture
    weights before the softmax, which is computed inside with the
    deterministic ``exp_``), ``means`` and ``scales`` in value units.
    """

    def __init__(self, bit_depth: int = 8, precision: int = 16):
        self.bit_depth = _check_bit_depth(bit_depth)
        self.n = 1 << self.bit_depth
        self.precision = checked_precision(precision, self.n)

    def _params(self, shape, logits, means, scales):
        k = np.shape(logits)[-1] if np.ndim(logits) else 1
        full = tuple(shape) + (k,)
        lg = as_params(logits, full, "logits").reshape(-1, k)
        mu = as_params(means, full, "means").reshape(-1, k)
        sc = _scales(scales, full, "scales").reshape(-1, k)
        return lg, mu, sc

    def push(self, msg, symbols, *, logits, means, scales) -> None:
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        lg, mu, sc = self._params(symbols.shape, logits, means, scales)
        msg.run_push(_mix_push_loop, x.size, x, lg, mu, sc, self.n, self.precision)

    def pop(self, msg, *, logits, means, scales) -> np.ndarray:
        shape = np.broadcast_shapes(np.shape(logits), np.shape(means), np.shape(scales))[:-1]
        lg, mu, sc = self._params(shape, logits, means, scales)
        out = np.empty(lg.shape[0], dtype=np.int64)
        msg.run_pop(_mix_pop_loop, lg, mu, sc, self.n, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, logits, means, scales):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        lg, mu, sc = self._params(symbols.shape, logits, means, scales)
        return run_intervals(_mix_interval_loop, x, symbols.shape, lg, mu, sc, self.n, self.precision)
