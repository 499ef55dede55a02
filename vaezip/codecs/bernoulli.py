"""The Bernoulli distribution over ``{0, 1}`` with per-symbol ``p = P(symbol == 1)``.

Symbol 0 owns ``[0, 2**precision - f1)`` and symbol 1 owns
``[2**precision - f1, 2**precision)``, with::

    f1 = floor(p * (2**precision - 2) + 0.5) + 1

so both symbols get ``freq >= 1`` even for ``p = 0`` or ``p = 1`` (where the
impossible symbol costs ``precision`` bits), the two frequencies sum to
``2**precision``, and ``p = 1/2`` gives two equal halves. Rounding to nearest
makes ``p`` and ``1 - p`` cost the same.

With ``logit=`` instead of ``p``, ``p = sigmoid_grid(snap_index(logit))`` is
computed inside the kernel with ``vaezip.codecs.detmath`` (logits are clamped to
``[-64, 64]`` and rounded to a grid of spacing ``2**-20``), so push and pop
get the same ``f1`` on every machine.
"""

from __future__ import annotations

import math

import numpy as np

from vaezip.codecs.base import Family, as_params, as_symbols, checked_precision, run_intervals
from vaezip.codecs.detmath import SNAP_LIMIT, sigmoid_grid, snap_index
from vaezip.codecs.loops import interval_symbols, pop_symbols, push_symbols
from vaezip.rans._jit import jit


@jit
def _freq1(q, is_logit, precision):
    """Frequency ``f1`` of symbol 1 (see the module docstring); ``q`` is ``p`` or a logit."""
    p = sigmoid_grid(snap_index(q, SNAP_LIMIT)) if is_logit else q
    return int(math.floor(p * ((1 << precision) - 2) + 0.5)) + 1


@jit
def _interval(x, q, is_logit, precision):
    """``(start, freq)`` of symbol ``x`` in {0, 1}."""
    f1 = _freq1(q, is_logit, precision)
    total = 1 << precision
    if x == 0:
        return 0, total - f1
    return total - f1, f1


@jit(inline="always")
def _interval_at(i, x, params, precision):
    q, is_logit = params
    start, freq = _interval(x, q[i], is_logit, precision)
    return start, start + freq


@jit(inline="always")
def _search_at(i, cf, params, precision):
    q, is_logit = params
    f1 = _freq1(q[i], is_logit, precision)  # once per symbol: the same intervals as _interval
    total = 1 << precision
    if cf < total - f1:
        x, c0, c1 = 0, 0, total - f1
    else:
        x, c0, c1 = 1, total - f1, total
    return x, c0, c1


# the kernels (vaezip.codecs.loops)
@jit
def _interval_loop(x, q, is_logit, precision, starts, freqs):
    interval_symbols(_interval_at, x, (q, is_logit), precision, starts, freqs)


@jit
def _push_loop(state, tail, length, x, q, is_logit, precision):
    return push_symbols(_interval_at, state, tail, length, x, (q, is_logit), precision)


@jit
def _pop_loop(state, tail, length, fillers, strict, q, is_logit, precision, out):
    return pop_symbols(_search_at, state, tail, length, fillers, strict, (q, is_logit), precision, out)


def _choose(p, logit):
    """The one parameter given, as ``(value, is_logit, name)``."""
    if (p is None) == (logit is None):
        raise ValueError("give exactly one of p= (probability of 1) and logit=")
    return (p, False, "p") if logit is None else (logit, True, "logit")


class Bernoulli(Family):
    """Bits with per-symbol ``p = P(1)`` in ``[0, 1]`` (or ``logit=`` in its place).

    The parameter broadcasts against the symbols on push; on pop the output
    has the parameter's shape.
    """

    def __init__(self, precision: int = 16):
        self.precision = checked_precision(precision, 2)

    def _params(self, shape, p, logit):
        value, is_logit, name = _choose(p, logit)
        q = as_params(value, shape, name)
        if not is_logit and q.size and (q.min() < 0.0 or q.max() > 1.0):
            raise ValueError(f"p must lie in [0, 1]; got values in [{q.min()}, {q.max()}]")
        return q, is_logit

    def push(self, msg, symbols, *, p=None, logit=None) -> None:
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, 2)
        q, is_logit = self._params(symbols.shape, p, logit)
        msg.run_push(_push_loop, x.size, x, q, is_logit, self.precision)

    def pop(self, msg, *, p=None, logit=None) -> np.ndarray:
        shape = np.shape(_choose(p, logit)[0])
        q, is_logit = self._params(shape, p, logit)
        out = np.empty(q.size, dtype=np.int64)
        msg.run_pop(_pop_loop, q, is_logit, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, p=None, logit=None):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, 2)
        q, is_logit = self._params(symbols.shape, p, logit)
        return run_intervals(_interval_loop, x, symbols.shape, q, is_logit, self.precision)
