"""The loops the families' kernels share: push, pop and interval over arrays, and the symbol search.

A family gives its cumulative function C in two small jitted forms, over a
tuple ``params`` of its parameter arrays (built once per call):

- ``interval(i, x, params, precision) -> (C(x), C(x+1))``: symbol ``x`` at index ``i``;
- ``search(i, cf, params, precision) -> (x, C(x), C(x+1))``: the symbol at
  index ``i`` whose interval holds the peeked ``cf``; ``x = -1`` says a
  parameter of index ``i`` is invalid, and the pop stops there with status
  ``-1 - i`` (``Message.run_pop`` raises ``BadParameter``).

Each family's kernels are one-line functions of its own module that call
these loops with its two functions; the loops are inlined into them
(``inline="always"``: numba inlines the loop's IR before typing), so every
kernel is compiled for its own family, runs as fast as a loop written out
in full, and is cached on disk under its family's module like any other.
Passing the family's function to one shared jitted loop instead, or making
the kernels with a closure factory, defeats that cache: numba keys both by
objects that differ in each process, so every new process compiled them
again (measured: 0.4-0.6 s on the first call of a Uniform or Gaussian pop in
each new process, where a cached kernel takes 10-30 ms).

``search_from`` and ``bisect`` are the search itself (``C(k) = cdf(k, *p)``,
the family's own cumulative function): from a guess, gallop outwards, then bisect.
"""

from __future__ import annotations

from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit


@jit(inline="always")
def push_symbols(interval, state, tail, length, x, params, precision):
    """Push ``x[i]`` for every ``i``, last first, so that a pop returns them in index order."""
    for i in range(x.shape[0] - 1, -1, -1):
        c0, c1 = interval(i, x[i], params, precision)
        state, length = rk.push_step(state, tail, length, c0, c1 - c0, precision)
    return state, length


@jit(inline="always")
def pop_symbols(search, state, tail, length, fillers, strict, params, precision, out):
    """Pop ``out.size`` symbols in index order; returns ``(state, length, fillers, status)``."""
    status = rk.OK
    for i in range(out.shape[0]):
        cf = int(rk.peek(state, precision))
        x, c0, c1 = search(i, cf, params, precision)
        if x < 0:
            return state, length, fillers, -1 - i
        out[i] = x
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, c0, c1 - c0, precision
        )
        if status != rk.OK:
            break
    return state, length, fillers, status


@jit(inline="always")
def interval_symbols(interval, x, params, precision, starts, freqs):
    """``starts[i], freqs[i]``: the interval of ``x[i]`` for every ``i``."""
    for i in range(x.shape[0]):
        c0, c1 = interval(i, x[i], params, precision)
        starts[i] = c0
        freqs[i] = c1 - c0


@jit(inline="always")
def search_from(cdf, p, cf, x, n):
    """The symbol ``s`` with ``C(s) <= cf < C(s+1)``, found from the guess ``x`` in ``[0, n)``:
    ``(s, C(s), C(s+1))``, ``C(k) = cdf(k, *p)``. Any guess gives the same answer; a good one
    (the usual case) costs two evaluations of C."""
    lo, hi = x, x + 1
    lo_c = cdf(lo, *p)
    hi_c = cdf(hi, *p)
    if lo_c <= cf < hi_c:  # the usual case: the guess is right
        return lo, lo_c, hi_c
    step = 1
    if lo_c <= cf:  # gallop up; C(n) > cf always stops it
        while hi_c <= cf:
            lo, lo_c = hi, hi_c
            step *= 2
            hi = min(x + step, n)
            hi_c = cdf(hi, *p)
    else:  # gallop down; C(0) = 0 <= cf always stops it
        while lo_c > cf:
            hi, hi_c = lo, lo_c
            step *= 2
            lo = max(x - step, 0)
            lo_c = cdf(lo, *p)
    return bisect(cdf, p, cf, lo, lo_c, hi, hi_c)


@jit(inline="always")
def bisect(cdf, p, cf, lo, lo_c, hi, hi_c):
    """Narrow ``C(lo) <= cf < C(hi)`` down to one symbol: ``(s, C(s), C(s+1))``."""
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        mid_c = cdf(mid, *p)
        if mid_c <= cf:
            lo, lo_c = mid, mid_c
        else:
            hi, hi_c = mid, mid_c
    return lo, lo_c, hi_c
