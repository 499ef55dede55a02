"""The categorical distribution over ``K`` categories with a table per symbol.

Each symbol has a row of ``K`` non-negative weights ``w`` (``probs=``, which
need not sum to 1, or ``logits=``, turned into ``w_j = exp(l_j - max_l)``
on the snap grid, ``vaezip.codecs.detmath.exp_grid``). With the running sums
``s_k = w_0 + ... + w_(k-1)`` added one at a time from ``j = 0`` and the total
``s_K``, the quantized cumulative function is::

    C(0) = 0,   C(K) = 2**precision,
    C(k) = floor(min(s_k / s_K, 1) * (2**precision - K)) + k      for 0 < k < K

``s_k`` never decreases (the weights are non-negative and IEEE addition is
monotone), so ``C(k+1) - C(k) >= 1`` for every category, zero-weight ones
included, and the frequencies sum to ``2**precision``. Push and pop add the
same weights in the same order, so they see the same ``s_k`` bit for bit.

Push and pop both fill the running sums of the row with ``_prefix`` (``O(K)``:
the total needs every weight); push then reads ``C(x)`` and ``C(x+1)``, pop
bisects ``C`` (``log2 K`` evaluations). A single category (``K = 1``)
carries no information and is not coded.

``_cdf``, ``_interval`` and ``_search`` (the quantizer over running sums)
are shared with ``vaezip.codecs.betabinomial``.
"""

from __future__ import annotations

import math

import numpy as np

from vaezip.codecs.base import Family, as_params, as_symbols, checked_precision, run_intervals
from vaezip.codecs.detmath import SNAP_LIMIT, exp_grid, snap_index
from vaezip.codecs.loops import interval_symbols, pop_symbols, push_symbols
from vaezip.rans._jit import jit


@jit
def _cdf(k, s, total, n, span):
    """C(k) from the running sum ``s = s_k`` and the total ``s_n`` (module docstring)."""
    if k <= 0:
        return 0
    if k >= n:
        return span + n
    return int(math.floor(min(s / total, 1.0) * span)) + k


@jit
def _weights(row, is_logit, scratch):
    """The row's weights: ``row`` itself, or ``exp(l - max l)`` (grid) written to ``scratch``."""
    if not is_logit:
        return row
    top = row[0]
    for j in range(1, row.shape[0]):
        if row[j] > top:
            top = row[j]
    for j in range(row.shape[0]):
        scratch[j] = exp_grid(snap_index(row[j] - top, SNAP_LIMIT))
    return scratch


@jit
def _prefix(w, s):
    """Running sums ``s[k] = w[0] + ... + w[k-1]``, added in order (``s`` has ``len(w) + 1``)."""
    acc = 0.0
    s[0] = acc
    for k in range(w.shape[0]):
        acc += w[k]
        s[k + 1] = acc


@jit
def _interval(x, s, span):
    """``(C(x), C(x+1))`` from the running sums ``s`` (total ``s[-1]``)."""
    n = s.shape[0] - 1
    return _cdf(x, s[x], s[n], n, span), _cdf(x + 1, s[x + 1], s[n], n, span)


@jit
def _search(cf, s, span):
    """The value ``x`` with ``C(x) <= cf < C(x+1)``, with ``C(x)`` and ``C(x+1)`` (bisection)."""
    n = s.shape[0] - 1
    lo, lo_c = 0, 0
    hi, hi_c = n, span + n
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        mid_c = _cdf(mid, s[mid], s[n], n, span)
        if mid_c <= cf:
            lo, lo_c = mid, mid_c
        else:
            hi, hi_c = mid, mid_c
    return lo, lo_c, hi_c


@jit(inline="always")
def _interval_at(i, x, params, precision):
    table, is_logit, scratch, s, span = params
    _prefix(_weights(table[i], is_logit, scratch), s)
    return _interval(x, s, span)


@jit(inline="always")
def _search_at(i, cf, params, precision):
    table, is_logit, scratch, s, span = params
    _prefix(_weights(table[i], is_logit, scratch), s)
    return _search(cf, s, span)


# the kernels (vaezip.codecs.loops), with scratch for one row's weights and running sums
@jit(inline="always")
def _params(table, is_logit, precision):
    k = table.shape[1]
    return table, is_logit, np.empty(k), np.empty(k + 1), (1 << precision) - k


@jit
def _interval_loop(x, table, is_logit, precision, starts, freqs):
    interval_symbols(_interval_at, x, _params(table, is_logit, precision), precision, starts, freqs)


@jit
def _push_loop(state, tail, length, x, table, is_logit, precision):
    return push_symbols(_interval_at, state, tail, length, x, _params(table, is_logit, precision), precision)


@jit
def _pop_loop(state, tail, length, fillers, strict, table, is_logit, precision, out):
    params = _params(table, is_logit, precision)
    return pop_symbols(_search_at, state, tail, length, fillers, strict, params, precision, out)


def _choose(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("give exactly one of probs= and logits= (shape symbols.shape + (K,))")
    return (probs, False, "probs") if logits is None else (logits, True, "logits")


def _num_categories(value, name: str) -> int:
    if np.ndim(value) == 0 or np.shape(value)[-1] < 1:
        raise ValueError(f"{name} needs a last axis of K >= 1 categories, got shape {np.shape(value)}")
    return np.shape(value)[-1]


class Categorical(Family):
    """A table of ``K`` category weights per symbol: ``probs=`` or ``logits=``.

    Tables have shape ``symbols.shape + (K,)`` (broadcasting allowed) on
    push; on pop the output has shape ``table.shape[:-1]``. Probabilities are
    normalized inside by their sum; a one-hot row is fine, an all-zero row
    or a negative entry is a ValueError. ``K`` may be anything up to
    ``2**(precision - 1)``.
    """

    def __init__(self, precision: int = 16):
        self.precision = checked_precision(precision, 2)

    def _table(self, shape, probs, logits):
        value, is_logit, name = _choose(probs, logits)
        k = _num_categories(value, name)
        checked_precision(self.precision, k)
        table = as_params(value, tuple(shape) + (k,), name).reshape(-1, k)
        if not is_logit and table.size:
            if table.min() < 0.0:
                raise ValueError("probs must be non-negative")
            with np.errstate(over="ignore"):
                totals = np.cumsum(table, axis=1)[:, -1]  # same order as the kernels
            if not np.all(totals > 0.0):
                raise ValueError("every probs row needs a positive entry (an all-zero row has no distribution)")
            if not np.all(np.isfinite(totals)):
                raise ValueError("probs rows must have a finite sum")
        return table, is_logit

    def push(self, msg, symbols, *, probs=None, logits=None) -> None:
        symbols = np.asarray(symbols)
        value, _, name = _choose(probs, logits)
        x = as_symbols(symbols, _num_categories(value, name))
        table, is_logit = self._table(symbols.shape, probs, logits)
        if table.shape[1] > 1:
            msg.run_push(_push_loop, x.size, x, table, is_logit, self.precision)

    def pop(self, msg, *, probs=None, logits=None) -> np.ndarray:
        value, _, name = _choose(probs, logits)
        _num_categories(value, name)
        shape = np.shape(value)[:-1]
        table, is_logit = self._table(shape, probs, logits)
        out = np.zeros(table.shape[0], dtype=np.int64)
        if table.shape[1] > 1:
            msg.run_pop(_pop_loop, table, is_logit, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, probs=None, logits=None):
        symbols = np.asarray(symbols)
        value, _, name = _choose(probs, logits)
        x = as_symbols(symbols, _num_categories(value, name))
        table, is_logit = self._table(symbols.shape, probs, logits)
        return run_intervals(_interval_loop, x, symbols.shape, table, is_logit, self.precision)
