"""The loops the families' kernels share: push, pop and interval over arrays of symbols.

A family gives its cumulative function C in two small jitted forms, over a
tuple ``params`` of its parameter arrays (built once per call):

- ``interval(i, x, params, precision) -> (C(x), C(x+1))``: symbol ``x`` at index ``i``;
- ``search(i, cf, params, precision) -> (x, C(x), C(x+1))``: the symbol at
  index ``i`` whose interval holds the peeked ``cf``.

A family's kernels are one-line functions of its own module that call these
loops with its two functions; the loops are inlined into them
(``inline="always"``: numba inlines the loop's IR before typing), so every
kernel is compiled for its own family and cached on disk under its family's
module like any other.
Passing the family's function to one shared jitted loop instead, or making
the kernels with a closure factory, defeats that cache: numba keys both by
objects that differ in each process, so every new process compiled them
again (measured: 0.4-0.6 s on the first call of a Uniform or Gaussian pop in
each new process, where a cached kernel takes 10-30 ms).

What stays in the families, because sharing it was measurably slower (paired
runs against the loops written out, one process, alternating): each family's
symbol search (one shared gallop-and-bisect, calling the family's C with its
parameters in a tuple, made the Gaussian and mixture pops 5-12 % slower), and
the pop loop of the two Gaussian families and the push and pop loops of
``LogisticMixture`` (5-10 % slower through these loops; the Uniform,
Bernoulli, Categorical and BetaBinomial kernels and every interval loop are
not). ``DiscretizedLogistic`` checks its parameters inside its push and pop
loops (a bad one ends the loop with its index), so those two are its own.
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
