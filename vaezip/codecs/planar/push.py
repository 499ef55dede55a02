"""The compress side of the model-free coder: the model runs over the known plane once, collecting
every symbol's interval in coding order, then the intervals are pushed in reverse."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.planar.predictor import RUN_BLOCK_BITS, RUN_K_MAX, predict
from vaezip.codecs.planar.residuals import fold, tokenize
from vaezip.codecs.planar.tables import PRECISION, adapt, new_state, uniform_start
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit

MASK16 = (1 << PRECISION) - 1


@jit(inline="always")
def _emit(buf, n, start, freq):
    buf[n] = start | (freq << PRECISION)
    return n + 1


@jit(inline="always")
def _emit_table(buf, n, tables, row, s, nsym):
    start = tables[row, nsym + s]
    n = _emit(buf, n, start, tables[row, nsym + s + 1] - start)
    adapt(tables, row, s, nsym)
    return n


@jit(inline="always")
def _emit_pixel(buf, n, x, pred, depth, tables, row, nsym):
    """Code one regular pixel; returns ``(n, u)``."""
    u = fold(x, pred, depth)
    token, nb, raw = tokenize(u)
    n = _emit_table(buf, n, tables, row, token, nsym)
    if nb > 0:
        n = _emit(buf, n, raw << (PRECISION - nb), 1 << (PRECISION - nb))
    return n, u


@jit
def intervals(img, depth, buf):
    """Every symbol of the plane in coding order, packed ``start | freq << 16``; -1 if ``buf`` is full."""
    height, width = img.shape
    nsym, stop_row, tables, run_tables = new_state(depth)
    cap = buf.shape[0] - 4  # one step emits at most 4 symbols
    n = 0
    k = 0
    for i in range(height):
        j = 0
        u_w = 0
        while j < width:
            if n > cap:
                return -1
            pred, ctx, flat = predict(img, i, j, depth, u_w)
            if not flat:
                n, u_w = _emit_pixel(buf, n, img[i, j], pred, depth, tables, ctx, nsym)
                j += 1
                continue
            end = j
            while end < width and img[i, end] == pred:
                end += 1
            u_w = 0
            while True:
                if n > cap:
                    return -1
                m = min(1 << RUN_BLOCK_BITS[k], width - j)
                if j + m <= end:  # the run covers the block
                    n = _emit_table(buf, n, run_tables, k, 1, 2)
                    j += m
                    k = min(k + 1, RUN_K_MAX)
                    if j == width:
                        break
                else:  # the run stops inside the block, before pixel `end`
                    n = _emit_table(buf, n, run_tables, k, 0, 2)
                    if m > 1:
                        start = uniform_start(end - j, m)
                        n = _emit(buf, n, start, uniform_start(end - j + 1, m) - start)
                    k = max(k - 1, 0)
                    pred, ctx, flat = predict(img, i, end, depth, 0)
                    n, u_w = _emit_pixel(buf, n, img[i, end], pred, depth, tables, stop_row, nsym)
                    j = end + 1
                    break
    return n


@jit
def push_packed(state, tail, length, buf, count):
    mask = np.uint32(MASK16)
    for t in range(count - 1, -1, -1):
        w = buf[t]
        state, length = rk.push_step(state, tail, length, w & mask, w >> np.uint32(PRECISION), PRECISION)
    return state, length
