"""The beta-binomial distribution over ``{0, ..., 255}`` (``n = 255`` trials).

With per-symbol shape parameters ``a, b > 0`` the pmf is
``P(k) = C(n, k) B(k + a, n - k + b) / B(a, b)``. Its neighbours have the ratio
``P(k+1) / P(k) = num_k / den_k`` with ``num_k = (n - k) * (k + a)`` and
``den_k = (k + 1) * ((n - k - 1) + b)``, so, multiplying by ``den_0 ... den_(n-1)``,
``P(k)`` is proportional to::

    w_k = (num_0 * ... * num_(k-1)) * (den_k * ... * den_(n-1))

a prefix product times a suffix product: multiplications only, no libm
function and no division. Each product is kept in ``[2**-64, 2**64]`` by
exact multiplications by ``2**-64`` or ``2**64`` whose count is kept beside
it, so ``w_k = v_k * 2**(64 * c_k)`` with ``v_k`` in ``[2**-128, 2**128]``. The
weights used are ``v_k * 2**(-64 * d_k)``, ``d_k = max_j c_j - c_k``, with the
factor taken as 0 from ``d_k = 17`` on (such a weight is below ``2**-800``
times the largest one). The weights are then quantized like a
categorical row (``vaezip.codecs.categorical``)::

    C(0) = 0,   C(256) = 2**precision,
    C(k) = floor(min(s_k / s_256, 1) * (2**precision - 256)) + k      for 0 < k < 256

with the running sums ``s_k = w_0 + ... + w_(k-1)`` added in order. Every
value gets ``freq >= 1`` and the frequencies sum to ``2**precision``.

Parameters are used as ``a, b`` scaled down together (same mean) until
``max(a, b) <= AB_MAX``, then each raised to at least ``AB_MIN``. In that
range every factor lies in ``[2**-32, 2**48]``, so the products never leave
the float range, and the distributions are indistinguishable at 24-bit
precision from the unclamped ones.

Cost per symbol: about 1000 multiplications and additions for the table,
then two quantizer evaluations (push) or a bisection (pop).
"""

from __future__ import annotations

import numpy as np

from vaezip.codecs.base import Family, as_params, as_symbols, checked_precision, run_intervals
from vaezip.codecs.categorical import _interval, _search
from vaezip.codecs.loops import interval_symbols, pop_symbols, push_symbols
from vaezip.rans._jit import jit

N_TRIALS = 255
SUPPORT = N_TRIALS + 1
AB_MIN = 1e-12
AB_MAX = 1e12
_HI = 2.0**64
_LO = 2.0**-64
_DOWN = np.array([2.0 ** (-64 * d) for d in range(17)])  # exact powers of two, the last subnormal


@jit
def _clamp(a, b):
    """``(a, b)`` moved into ``[AB_MIN, AB_MAX]`` (see the module docstring)."""
    top = max(a, b)
    if top > AB_MAX:
        shrink = AB_MAX / top
        a = a * shrink
        b = b * shrink
    return max(a, AB_MIN), max(b, AB_MIN)


@jit
def _rescale(v, count):
    """Bring ``v`` back into ``[2**-64, 2**64]`` exactly; returns ``(v, count)``."""
    if v > _HI:
        return v * _LO, count + 1
    if v < _LO:
        return v * _HI, count - 1
    return v, count


@jit
def _table(a, b, s, counts):
    """Running sums ``s[0..256]`` of the weights ``w_k`` (module docstring) for one ``(a, b)``.

    ``counts`` is int64 scratch of 256 entries.
    """
    a, b = _clamp(a, b)
    n = N_TRIALS
    v, c = 1.0, 0
    for k in range(n + 1):  # prefix products of num_j, j < k
        s[k + 1] = v
        counts[k] = c
        if k < n:
            v, c = _rescale(v * ((n - k) * (k + a)), c)
    v, c = 1.0, 0
    top = counts[n]
    for k in range(n, -1, -1):  # times suffix products of den_j, j >= k
        s[k + 1] = s[k + 1] * v
        counts[k] += c
        top = max(top, counts[k])
        if k > 0:
            v, c = _rescale(v * (k * ((n - k) + b)), c)
    acc = 0.0
    s[0] = acc
    for k in range(n + 1):
        d = top - counts[k]
        acc += s[k + 1] * _DOWN[d] if d < _DOWN.shape[0] else 0.0
        s[k + 1] = acc


@jit(inline="always")
def _interval_at(i, x, params, precision):
    a, b, s, counts, span = params
    _table(a[i], b[i], s, counts)
    return _interval(x, s, span)


@jit(inline="always")
def _search_at(i, cf, params, precision):
    a, b, s, counts, span = params
    _table(a[i], b[i], s, counts)
    return _search(cf, s, span)


# the kernels (vaezip.codecs.loops), with scratch for one symbol's running sums
@jit(inline="always")
def _params(a, b, precision):
    return a, b, np.empty(SUPPORT + 1), np.empty(SUPPORT, dtype=np.int64), (1 << precision) - SUPPORT


@jit
def _interval_loop(x, a, b, precision, starts, freqs):
    interval_symbols(_interval_at, x, _params(a, b, precision), precision, starts, freqs)


@jit
def _push_loop(state, tail, length, x, a, b, precision):
    return push_symbols(_interval_at, state, tail, length, x, _params(a, b, precision), precision)


@jit
def _pop_loop(state, tail, length, fillers, strict, a, b, precision, out):
    return pop_symbols(_search_at, state, tail, length, fillers, strict, _params(a, b, precision), precision, out)


def _positive(value, shape, name) -> np.ndarray:
    arr = as_params(value, shape, name)
    if arr.size and arr.min() <= 0.0:
        raise ValueError(f"{name} must be positive; got a minimum of {arr.min()}")
    return arr


class BetaBinomial(Family):
    """BetaBinomial(n = 255, a, b) over the values 0..255, per-symbol ``a`` and ``b``.

    Parameters broadcast against the symbols on push; on pop the output has
    the broadcast shape of ``a`` and ``b``. Needs ``precision >= 9``.
    """

    n = SUPPORT

    def __init__(self, precision: int = 16):
        self.precision = checked_precision(precision, SUPPORT)

    def _params(self, shape, a, b):
        return _positive(a, shape, "a"), _positive(b, shape, "b")

    def push(self, msg, symbols, *, a, b) -> None:
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, SUPPORT)
        aa, bb = self._params(symbols.shape, a, b)
        msg.run_push(_push_loop, x.size, x, aa, bb, self.precision)

    def pop(self, msg, *, a, b) -> np.ndarray:
        try:
            shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        except ValueError:
            raise ValueError(f"a of shape {np.shape(a)} and b of shape {np.shape(b)} do not broadcast") from None
        aa, bb = self._params(shape, a, b)
        out = np.empty(aa.size, dtype=np.int64)
        msg.run_pop(_pop_loop, aa, bb, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, a, b):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, SUPPORT)
        aa, bb = self._params(symbols.shape, a, b)
        return run_intervals(_interval_loop, x, symbols.shape, aa, bb, self.precision)
