"""Quantized Gaussians: ``DiscretizedGaussian`` over integers and ``GaussianLatent``.

Both quantize a normal ``N(mean, std)`` onto ``n`` bins with edges
``e_1 < ... < e_{n-1}`` (the outer bins open), with the cumulative function::

    C(0) = 0,   C(n) = 2**precision,
    C(k) = floor(Phi((e_k - mean) / std) * (2**precision - n)) + k   for 0 < k < n

so every bin gets ``freq >= 1`` and the frequencies sum to ``2**precision``.
``Phi`` is ``detmath.normal_cdf_grid`` on the snapped argument (identical on
every machine, non-decreasing).

- ``DiscretizedGaussian(n)``: symbols ``0..n-1``, ``e_k = k - 0.5``.
- ``GaussianLatent(latent_bits)``: the ``2**latent_bits`` buckets of equal
  mass under the N(0, 1) prior, ``e_k = Phi^-1(k / 2**latent_bits)``; bucket
  ``k`` is represented by its centre ``Phi^-1((k + 0.5) / 2**latent_bits)``
  (``centres``). Under the prior every bucket has the same mass, so the
  prior codec is uniform: ``push_prior`` / ``pop_prior`` code exactly
  ``latent_bits`` bits per latent. ``push`` / ``pop`` code a bucket under a
  posterior ``N(mean, std)`` at ``precision`` bits. Edges and centres are
  computed by bisection on ``detmath.normal_cdf``: the same doubles on every
  machine, which matters because the centres are fed to the decoder network.
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist

import numpy as np

from vaezip.codecs.base import Family, as_params, as_symbols, checked_precision, run_intervals
from vaezip.codecs.detmath import NORMAL_LIMIT, normal_cdf, normal_cdf_grid, snap_index
from vaezip.codecs.loops import interval_symbols, push_symbols
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit

STD_MIN = 1e-9
STD_MAX = 1e9
MAX_LATENT_BITS = 16
MAX_SYMBOLS = 1 << 20

# probit of the centre of each of 2**_GUESS_BITS equal slices of [0, 1): a
# starting point for the search (any start finds the same bin, so this
# table need not be bit-identical across machines)
_GUESS_BITS = 10
_PROBIT_GUESS = np.array(
    [NormalDist().inv_cdf((i + 0.5) / (1 << _GUESS_BITS)) for i in range(1 << _GUESS_BITS)]
)


@jit
def _edge(k, edges):
    """Edge below bin ``k``: ``edges[k]`` if a table is given, else ``k - 0.5``."""
    if edges.shape[0] == 0:
        return k - 0.5
    return edges[k]


@jit
def _cdf(k, mean, inv_std, edges, n, span):
    """C(k) (see the module docstring)."""
    if k <= 0:
        return 0
    if k >= n:
        return span + n
    t = (_edge(k, edges) - mean) * inv_std
    return int(normal_cdf_grid(snap_index(t, NORMAL_LIMIT)) * span) + k  # >= 0: int() is the floor


@jit
def _guess(cf, mean, std, edges, n, span, precision):
    """A bin near the one holding ``cf`` (the Gaussian quantile of ``cf``)."""
    v = mean + std * _PROBIT_GUESS[(cf << _GUESS_BITS) >> precision]
    if edges.shape[0] == 0:
        g = v + 0.5
    else:  # edges are the prior's quantiles: the bucket of v is n * Phi(v)
        g = n * normal_cdf_grid(snap_index(v, NORMAL_LIMIT))
    return n - 1 if g >= n - 1 else (0 if g <= 0.0 else int(g))


@jit
def _search(cf, mean, std, edges, n, span, precision):
    """The bin ``x`` with ``C(x) <= cf < C(x+1)``; returns ``(x, C(x), C(x+1))``."""
    inv_std = 1.0 / std
    x = _guess(cf, mean, std, edges, n, span, precision)
    lo, hi = x, x + 1
    lo_c = _cdf(lo, mean, inv_std, edges, n, span)
    hi_c = _cdf(hi, mean, inv_std, edges, n, span)
    if lo_c <= cf < hi_c:  # the usual case: the guess is right
        return lo, lo_c, hi_c
    step = 1
    if lo_c <= cf:  # gallop up; C(n) > cf always stops it
        while hi_c <= cf:
            lo, lo_c = hi, hi_c
            step *= 2
            hi = min(x + step, n)
            hi_c = _cdf(hi, mean, inv_std, edges, n, span)
    else:  # gallop down; C(0) = 0 <= cf always stops it
        while lo_c > cf:
            hi, hi_c = lo, lo_c
            step *= 2
            lo = max(x - step, 0)
            lo_c = _cdf(lo, mean, inv_std, edges, n, span)
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        mid_c = _cdf(mid, mean, inv_std, edges, n, span)
        if mid_c <= cf:
            lo, lo_c = mid, mid_c
        else:
            hi, hi_c = mid, mid_c
    return lo, lo_c, hi_c


@jit(inline="always")
def _interval_at(i, x, params, precision):
    mean, std, edges, n, span = params
    inv = 1.0 / std[i]
    return _cdf(x, mean[i], inv, edges, n, span), _cdf(x + 1, mean[i], inv, edges, n, span)


# the kernels (vaezip.codecs.loops for push and intervals)
@jit
def _interval_loop(x, mean, std, edges, n, precision, starts, freqs):
    interval_symbols(_interval_at, x, (mean, std, edges, n, (1 << precision) - n), precision, starts, freqs)


@jit
def _locate_loop(cf, mean, std, edges, n, precision, out, starts, freqs):
    span = (1 << precision) - n
    for i in range(cf.shape[0]):
        x, c0, c1 = _search(cf[i], mean[i], std[i], edges, n, span, precision)
        out[i] = x
        starts[i] = c0
        freqs[i] = c1 - c0


@jit
def _push_loop(state, tail, length, x, mean, std, edges, n, precision):
    return push_symbols(_interval_at, state, tail, length, x, (mean, std, edges, n, (1 << precision) - n), precision)


@jit
def _pop_loop(state, tail, length, fillers, strict, mean, std, edges, n, precision, out):
    """Written out: through ``pop_symbols`` this pop was about 5 % slower (``vaezip.codecs.loops``)."""
    span = (1 << precision) - n
    status = rk.OK
    for i in range(out.shape[0]):
        cf = int(rk.peek(state, precision))
        x, c0, c1 = _search(cf, mean[i], std[i], edges, n, span, precision)
        out[i] = x
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, c0, c1 - c0, precision
        )
        if status != rk.OK:
            break
    return state, length, fillers, status


@jit
def _normal_quantile(p):
    """Phi^-1(p) for 0 < p < 1 by bisection on ``normal_cdf`` (deterministic)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@lru_cache(maxsize=None)
def latent_grid(latent_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(edges, centres)`` of the equal-mass buckets for ``latent_bits`` (read-only arrays).

    ``edges`` has ``2**latent_bits`` entries, ``edges[0] = -inf`` unused;
    ``centres`` has ``2**latent_bits``.
    """
    n = 1 << latent_bits
    edges = np.array([-np.inf] + [_normal_quantile(k / n) for k in range(1, n)])
    centres = np.array([_normal_quantile((k + 0.5) / n) for k in range(n)])
    edges.flags.writeable = False
    centres.flags.writeable = False
    return edges, centres


# -- families ---------------------------------------------------------------------------
def _stds(std, shape) -> np.ndarray:
    return as_params(std, shape, "std", positive_range=(STD_MIN, STD_MAX))


class _QuantizedGaussian(Family):
    """Shared push/pop/interval of the two Gaussian families (``self.edges``, ``self.n``)."""

    edges: np.ndarray
    n: int

    def _params(self, shape, mean, std):
        return as_params(mean, shape, "mean"), _stds(std, shape)

    def push(self, msg, symbols, *, mean, std) -> None:
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        m, s = self._params(symbols.shape, mean, std)
        msg.run_push(_push_loop, x.size, x, m, s, self.edges, self.n, self.precision)

    def pop(self, msg, *, mean, std) -> np.ndarray:
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        m, s = self._params(shape, mean, std)
        out = np.empty(m.size, dtype=np.int64)
        msg.run_pop(_pop_loop, m, s, self.edges, self.n, self.precision, out)
        return out.reshape(shape)

    def interval(self, symbols, *, mean, std):
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        m, s = self._params(symbols.shape, mean, std)
        return run_intervals(_interval_loop, x, symbols.shape, m, s, self.edges, self.n, self.precision)


    def locate(self, cf, *, mean, std):
        """``(symbols, starts, freqs)``: the bin whose interval holds each ``cf`` in
        ``[0, 2**precision)`` (what ``pop`` finds for that peeked value)."""
        cf = np.asarray(cf)
        flat = np.ascontiguousarray(cf, dtype=np.int64).reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= 1 << self.precision):
            raise ValueError(f"cf must lie in [0, 2**{self.precision})")
        m, s = self._params(cf.shape, mean, std)
        out, starts, freqs = (np.empty(flat.size, dtype=np.int64) for _ in range(3))
        _locate_loop(flat, m, s, self.edges, self.n, self.precision, out, starts, freqs)
        return out.reshape(cf.shape), starts.reshape(cf.shape), freqs.reshape(cf.shape)


class DiscretizedGaussian(_QuantizedGaussian):
    """``N(mean, std)`` over the integers ``0..n-1`` (bins ``[k-0.5, k+0.5)``, open ends)."""

    def __init__(self, n: int, precision: int = 16):
        if not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_SYMBOLS:
            raise ValueError(f"n must be an integer in 2..{MAX_SYMBOLS}, got {n!r}")
        self.n = int(n)
        self.precision = checked_precision(precision, self.n)
        self.edges = np.empty(0)


class GaussianLatent(_QuantizedGaussian):
    """A latent on the ``2**latent_bits`` equal-mass buckets of N(0, 1).

    ``push``/``pop`` code bucket indices under a posterior ``N(mean, std)``
    at ``precision`` bits; ``push_prior``/``pop_prior`` under the prior
    (uniform, ``latent_bits`` bits each). ``centres[idx]`` is the latent value.
    """

    def __init__(self, latent_bits: int = 8, precision: int = 16):
        if not isinstance(latent_bits, (int, np.integer)) or not 1 <= latent_bits <= MAX_LATENT_BITS:
            raise ValueError(f"latent_bits must be an integer in 1..{MAX_LATENT_BITS}, got {latent_bits!r}")
        self.latent_bits = int(latent_bits)
        self.n = 1 << self.latent_bits
        self.precision = checked_precision(precision, self.n)
        self.edges, self.centres = latent_grid(self.latent_bits)

    def median(self, mean) -> np.ndarray:
        """The bucket holding each posterior's median (= its mean): used for a stream's first image."""
        mean = np.asarray(mean, dtype=np.float64)
        return np.searchsorted(self.edges[1:], mean, side="right").astype(np.int64)

    def push_prior(self, msg, symbols) -> None:
        symbols = np.asarray(symbols)
        x = as_symbols(symbols, self.n)
        msg.run_push(rk.push_intervals, x.size, x, np.ones_like(x), self.latent_bits)

    def pop_prior(self, msg, shape) -> np.ndarray:
        out = np.empty(int(np.prod(shape)), dtype=np.int64)
        cdf = np.arange(self.n + 1, dtype=np.int64)
        msg.run_pop(rk.pop_table, cdf, out.size, self.latent_bits, out)
        return out.reshape(shape)
