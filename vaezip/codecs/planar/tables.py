"""Adaptive frequency tables: integer counts, halved when their total passes a limit, coding starts
rebuilt from them (deferred summation). See ``vaezip.codecs.planar``, "Adaptive tables"."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.planar.predictor import BINARY_TEMPLATE, NUM_ACTIVITY, NUM_RUN_TABLES
from vaezip.codecs.planar.residuals import DIRECT_TOKENS, MANTISSA_BITS
from vaezip.rans._jit import jit

PRECISION = 16  # every symbol is an interval of [0, 2**PRECISION)
COUNT_STEP = 32  # a coded symbol adds this to its count (the prior gives every symbol 1)
COUNT_LIMIT = 1 << 16  # counts are halved when their total passes this
REBUILD_SHIFT = 3  # the coding table is rebuilt after 1 + uses // 8 symbols ...
REBUILD_MAX = 64  # ... but at least every 64


# A set of tables is one int64 array, a row per table, laid out as
#   [0, nsym)            counts[t]: the adaptive count of symbol t
#   [nsym, 2 nsym + 1)   starts[t]: the coding start C(t); C(nsym) = 2**PRECISION
#   2 nsym + 1           total of the counts
#   2 nsym + 2           uses: symbols coded with the table
#   2 nsym + 3           left: symbols to code before the starts are rebuilt from the counts
# (one array, not several: Numba then passes a single reference around the hot loop).
@jit
def new_tables(count, nsym):
    """``count`` tables over ``nsym`` symbols, each with a uniform prior worth about one symbol."""
    prior = max(1, COUNT_STEP // nsym)
    tables = np.zeros((count, 2 * nsym + 4), dtype=np.int64)
    for r in range(count):
        tables[r, :nsym] = prior
        tables[r, 2 * nsym + 1] = prior * nsym
        tables[r, 2 * nsym + 3] = 1
        _rebuild(tables, r, nsym)
    return tables


@jit(inline="always")
def _rebuild(tables, r, nsym):
    """Coding starts of table ``r`` from its counts: C(t) = cum(t) * (2**PRECISION - nsym) // total + t."""
    span = (1 << PRECISION) - nsym
    total = tables[r, 2 * nsym + 1]
    cum = 0
    for t in range(nsym):
        tables[r, nsym + t] = (cum * span) // total + t
        cum += tables[r, t]
    tables[r, 2 * nsym] = 1 << PRECISION


@jit(inline="always")
def adapt(tables, r, s, nsym):
    """Count symbol ``s`` in table ``r``; rebuild its starts when due (see the module docstring)."""
    tables[r, s] += COUNT_STEP
    tables[r, 2 * nsym + 1] += COUNT_STEP
    n = tables[r, 2 * nsym + 2] + 1
    tables[r, 2 * nsym + 2] = n
    left = tables[r, 2 * nsym + 3] - 1
    if left == 0:
        if tables[r, 2 * nsym + 1] > COUNT_LIMIT:
            total = 0
            for t in range(nsym):
                c = (tables[r, t] + 1) >> 1
                tables[r, t] = c
                total += c
            tables[r, 2 * nsym + 1] = total
        _rebuild(tables, r, nsym)
        left = min(REBUILD_MAX, 1 + (n >> REBUILD_SHIFT))
    tables[r, 2 * nsym + 3] = left


@jit(inline="always")
def find(tables, r, cf, nsym):
    """The symbol ``t`` of table ``r`` with ``C(t) <= cf < C(t+1)``."""
    t = 0
    while tables[r, nsym + t + 1] <= cf:
        t += 1
    return t


@jit
def uniform_start(c, m):
    return (c << PRECISION) // m


@jit(inline="always")
def new_state(depth):
    """The adaptive state a plane of ``depth`` starts from, the same on both sides:
    ``(nsym, stop_row, tables, run_tables)``, one token table per context (the last, ``stop_row``,
    for the pixels that stop a run) and one binary table per run index."""
    nsym = 1 << depth if depth <= 4 else DIRECT_TOKENS + ((depth - 4) << MANTISSA_BITS)
    nctx = (1 << BINARY_TEMPLATE if depth == 1 else NUM_ACTIVITY) + 1
    return nsym, nctx - 1, new_tables(nctx, nsym), new_tables(NUM_RUN_TABLES, 2)
