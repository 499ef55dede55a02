"""The decompress side of the model-free coder: raster order, the same model as the push side,
updated through the same functions."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.planar.predictor import RUN_BLOCK_BITS, RUN_K_MAX, predict
from vaezip.codecs.planar.residuals import raw_bits, unfold, untokenize
from vaezip.codecs.planar.tables import PRECISION, adapt, find, new_state, uniform_start
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit


@jit(inline="always")
def _pop_pixel(state, tail, length, fillers, strict, pred, depth, tables, row, nsym):
    """Decode one regular pixel; returns ``(state, length, fillers, status, x, u)``."""
    cf = np.int64(rk.peek(state, PRECISION))
    token = find(tables, row, cf, nsym)
    start = tables[row, nsym + token]
    state, length, fillers, status = rk.pop_step(
        state, tail, length, fillers, strict, start, tables[row, nsym + token + 1] - start, PRECISION
    )
    if status != rk.OK:
        return state, length, fillers, status, 0, 0
    adapt(tables, row, token, nsym)
    nb = raw_bits(token)
    raw = 0
    if nb > 0:
        raw = np.int64(rk.peek(state, PRECISION)) >> (PRECISION - nb)
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, raw << (PRECISION - nb), 1 << (PRECISION - nb), PRECISION
        )
    u = untokenize(token, raw)
    return state, length, fillers, status, unfold(u, pred, depth), u


@jit
def pop_plane(state, tail, length, fillers, strict, depth, img):
    height, width = img.shape
    nsym, stop_row, tables, run_tables = new_state(depth)
    status = rk.OK
    k = 0
    for i in range(height):
        j = 0
        u_w = 0
        while j < width:
            pred, ctx, flat = predict(img, i, j, depth, u_w)
            if not flat:
                state, length, fillers, status, x, u_w = _pop_pixel(
                    state, tail, length, fillers, strict, pred, depth, tables, ctx, nsym
                )
                if status != rk.OK:
                    return state, length, fillers, status
                img[i, j] = x
                j += 1
                continue
            u_w = 0
            while True:
                m = min(1 << RUN_BLOCK_BITS[k], width - j)
                bit = 1 if np.int64(rk.peek(state, PRECISION)) >= run_tables[k, 3] else 0
                start = run_tables[k, 2 + bit]
                state, length, fillers, status = rk.pop_step(
                    state, tail, length, fillers, strict, start, run_tables[k, 3 + bit] - start, PRECISION
                )
                if status != rk.OK:
                    return state, length, fillers, status
                adapt(run_tables, k, bit, 2)
                if bit == 1:
                    img[i, j : j + m] = pred
                    j += m
                    k = min(k + 1, RUN_K_MAX)
                    if j == width:
                        break
                    continue
                c = 0
                if m > 1:
                    cf = np.int64(rk.peek(state, PRECISION))
                    c = ((cf + 1) * m - 1) >> PRECISION
                    start = uniform_start(c, m)
                    state, length, fillers, status = rk.pop_step(
                        state, tail, length, fillers, strict, start, uniform_start(c + 1, m) - start, PRECISION
                    )
                    if status != rk.OK:
                        return state, length, fillers, status
                img[i, j : j + c] = pred
                j += c
                k = max(k - 1, 0)
                stop_pred, ctx, flat = predict(img, i, j, depth, 0)
                state, length, fillers, status, x, u_w = _pop_pixel(
                    state, tail, length, fillers, strict, stop_pred, depth, tables, stop_row, nsym
                )
                if status != rk.OK:
                    return state, length, fillers, status
                img[i, j] = x
                j += 1
                break
    return state, length, fillers, status
