"""The uniform distribution over ``[0, n)``, exact in integers.

Symbol ``k`` owns ``[C(k), C(k+1))`` inside ``[0, 2**precision)`` with::

    C(k) = floor(k * 2**precision / n)            for 0 <= k <= n

computed in 64-bit integers (``k * 2**precision <= 2**48``), so it is exact
and identical on every machine. ``C(0) = 0``, ``C(n) = 2**precision``, and
``freq = C(k+1) - C(k)`` is ``q`` or ``q + 1`` with ``q = floor(2**precision
/ n) >= 1``: every symbol gets ``freq >= 1`` and the frequencies sum to
``2**precision``.

Choice of precision. A power-of-two ``n`` is coded exactly: every freq is
``2**precision / n``, so each symbol costs exactly ``log2(n)`` bits. Any
other ``n`` cannot be exact at any precision; by default it is coded at the
largest precision (``MAX_PRECISION`` = 24), where the excess over ``log2(n)``
averaged over the symbols is ``log2(2**p / n) - mean(log2(freq))``, below
``0.18 / q**2`` bits and never above 0.086 bits (the worst case, ``q = 1``,
needs ``n > 2**23``). A smaller ``precision`` may be given; it needs
``n <= 2**precision``.

Inverse: ``C(k) <= cf`` holds exactly when ``k <= ((cf + 1) * n - 1) >> precision``;
pop takes that as its first guess and then checks it against the same ``C``
that push uses.

``n = 1`` carries no information: push only validates the symbols (all 0)
and pop returns zeros, neither touches the message.
"""

from __future__ import annotations

import numpy as np

from vaezip.codecs.base import Family, as_symbols, run_intervals
from vaezip.codecs.loops import interval_symbols, pop_symbols, push_symbols
from vaezip.rans import MAX_PRECISION, check_precision
from vaezip.rans._jit import jit

MAX_N = 1 << MAX_PRECISION


@jit
def _cdf(k, n, precision):
    """C(k) = floor(k * 2**precision / n) (see the module docstring)."""
    return (k << precision) // n


@jit
def _search(cf, n, precision):
    """The symbol ``x`` with ``C(x) <= cf < C(x+1)``, with ``C(x)`` and ``C(x+1)``."""
    x = ((cf + 1) * n - 1) >> precision
    # the closed form is exact; these loops only make the search agree with _cdf by construction
    while x + 1 < n and _cdf(x + 1, n, precision) <= cf:
        x += 1
    while x > 0 and _cdf(x, n, precision) > cf:
        x -= 1
    return x, _cdf(x, n, precision), _cdf(x + 1, n, precision)


@jit(inline="always")
def _interval_at(i, x, params, precision):
    n = params[0][i]
    return _cdf(x, n, precision), _cdf(x + 1, n, precision)


@jit(inline="always")
def _search_at(i, cf, params, precision):
    return _search(cf, params[0][i], precision)


# the kernels (vaezip.codecs.loops): symbol ``x[i]`` uniform over ``[0, n[i])``
@jit
def _push_loop(state, tail, length, x, n, precision):
    return push_symbols(_interval_at, state, tail, length, x, (n,), precision)


@jit
def _pop_loop(state, tail, length, fillers, strict, n, precision, out):
    return pop_symbols(_search_at, state, tail, length, fillers, strict, (n,), precision, out)


@jit
def _interval_loop(x, n, precision, starts, freqs):
    interval_symbols(_interval_at, x, (n,), precision, starts, freqs)


def _default_precision(n: int) -> int:
    """log2(n) for a power of two (at least 1), else MAX_PRECISION."""
    if n & (n - 1) == 0:
        return max(n.bit_length() - 1, 1)
    return MAX_PRECISION


def _shape(shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in np.atleast_1d(shape)) if np.ndim(shape) else (int(shape),)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    return shape


class Uniform(Family):
    """Every value in ``[0, n)`` equally likely; no per-symbol parameters.

    ``pop(msg, shape)`` takes the shape of the array to pop (bind it with
    ``Uniform(n)(shape=...)`` to get a ``Codec``).
    """

    def __init__(self, n: int, precision: int | None = None):
        if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
            raise ValueError(f"n must be an integer in 1..{MAX_N}, got {n!r}")
        self.n = int(n)
        if precision is None:
            precision = _default_precision(self.n)
        self.precision = check_precision(precision)
        if self.n > 1 << self.precision:
            raise ValueError(
                f"precision {self.precision} is too small for {self.n} symbols: need 2**precision >= {self.n}"
            )

    def push(self, msg, symbols, shape=None) -> None:
        """Push ``symbols``; ``shape``, when given (a bound codec), must be their shape."""
        if shape is not None and np.shape(symbols) != _shape(shape):
            raise ValueError(f"symbols of shape {np.shape(symbols)} where shape {_shape(shape)} was bound")
        x = as_symbols(symbols, self.n)
        if self.n > 1:
            msg.run_push(_push_loop, x.size, x, np.full(x.size, self.n, dtype=np.int64), self.precision)

    def pop(self, msg, shape) -> np.ndarray:
        shape = _shape(shape)
        out = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
        if self.n > 1:
            msg.run_pop(_pop_loop, np.full(out.size, self.n, dtype=np.int64), self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        n = np.full(x.size, self.n, dtype=np.int64)
        return run_intervals(_interval_loop, x, symbols.shape, n, self.precision)


# -- a uniform with its own range per symbol -------------------------------------------------
@jit
def _check_below(x, n, limit):
    """Index of the first bad (symbol, range) pair, or -1."""
    for i in range(n.shape[0]):
        if n[i] < 1 or n[i] > limit or (x.shape[0] > 0 and not 0 <= x[i] < n[i]):
            return i
    return -1


class UniformBelow(Family):
    """Symbol ``i`` uniform over ``[0, n[i])``: a range per symbol (``n`` an array).

    Coded with the same ``C(k) = floor(k * 2**precision / n)`` as ``Uniform``,
    at ``precision`` 24 by default: a range of up to ``2**20`` values then
    costs at most 0.0007 bits more than ``log2(n)`` on average, and a
    power-of-two range costs exactly ``log2(n)``. ``n = 1`` costs nothing.
    """

    def __init__(self, precision: int = MAX_PRECISION):
        self.precision = check_precision(precision)

    def _ranges(self, n, shape) -> np.ndarray:
        n = np.ascontiguousarray(np.broadcast_to(np.asarray(n), shape), dtype=np.int64).reshape(-1)
        return n

    def _checked(self, x, n):
        bad = _check_below(x, n, 1 << self.precision)
        if bad >= 0:
            got = f"symbol {x[bad]} with " if x.shape[0] else ""
            raise ValueError(f"{got}range n = {n[bad]} at index {bad}: need 1 <= n <= 2**{self.precision}"
                             + (" and 0 <= symbol < n" if x.shape[0] else ""))

    def push(self, msg, symbols, *, n) -> None:
        symbols = np.asarray(symbols)
        x = np.ascontiguousarray(symbols, dtype=np.int64).reshape(-1)
        ranges = self._ranges(n, symbols.shape)
        self._checked(x, ranges)
        msg.run_push(_push_loop, x.size, x, ranges, self.precision)

    def pop(self, msg, *, n) -> np.ndarray:
        shape = np.shape(n)
        ranges = self._ranges(n, shape)
        self._checked(np.empty(0, dtype=np.int64), ranges)
        out = np.empty(ranges.size, dtype=np.int64)
        msg.run_pop(_pop_loop, ranges, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, n):
        symbols = np.asarray(symbols)
        x = np.ascontiguousarray(symbols, dtype=np.int64).reshape(-1)
        ranges = self._ranges(n, symbols.shape)
        self._checked(x, ranges)
        starts = (x << self.precision) // ranges
        freqs = ((x + 1) << self.precision) // ranges - starts
        return starts.reshape(symbols.shape), freqs.reshape(symbols.shape)
