"""Numba kernels of the fast engine: finishing a layer (rescale, clamp, residual, table).

They compute on integers held in floats, where every operation is exact:
sums of float32 integers below 2**24 in float64, multiplication by a power
of two, floor, and comparisons. (Integer types vectorize worse here.)
"""

from __future__ import annotations

import math

import numpy as np

from vaezip.rans._jit import jit

POST_NONE, POST_LUT, POST_RELU = 0, 1, 2


@jit
def finish(parts, groups, bias, factor, limit, resid, limit2, keep, post, values, offset, first, last, out, out_post):
    """One layer's outputs from its exact partial sums ``parts`` (P, groups * C), channels last.

    Per row and channel ``y = clamp(floor((sum_g parts[g*C + c] + bias[c]) * factor[c]),
    -limit, limit)`` with ``factor = 2**-shift`` and ``bias`` holding the rounding half
    (float64: exact below 2**53); then, if ``resid`` has rows, ``y = clamp(y + resid, -limit2,
    limit2)``. ``keep``: store ``y`` in ``out``. ``post`` LUT: ``out_post = y`` for ``y >= 0``,
    else ``values[clip(y + offset[c], first[c], last[c])]`` (a table whose inputs run up to
    -1, continued by the identity: ELU); RELU: ``max(y, 0)``. All arrays float32 but
    ``bias`` and ``factor``.
    """
    rows = parts.shape[0]
    channels = bias.shape[0]
    has_resid = resid.shape[0] > 0
    acc = np.empty(channels)
    y = np.empty(channels, dtype=np.float32)
    for p in range(rows):
        for c in range(channels):
            acc[c] = bias[c] + parts[p, c]
        for g in range(1, groups):
            for c in range(channels):
                acc[c] += parts[p, g * channels + c]
        for c in range(channels):
            y[c] = np.float32(min(max(math.floor(acc[c] * factor[c]), -limit), limit))
        if has_resid:
            for c in range(channels):
                y[c] = min(max(y[c] + resid[p, c], -limit2), limit2)
        if keep:
            for c in range(channels):
                out[p, c] = y[c]
        if post == POST_LUT:
            for c in range(channels):
                v = y[c]
                t = values[np.int32(min(max(v + offset[c], first[c]), last[c]))]
                out_post[p, c] = v if v >= 0 else t
        elif post == POST_RELU:
            for c in range(channels):
                out_post[p, c] = max(y[c], np.float32(0.0))


@jit
def pointwise(rows, weight, offset, factor, limit, out):
    """A 1x1 convolution run in float64 (exact below 2**53), rescaled and clamped like ``finish``:
    ``out[p, o] = clamp(floor((sum_c rows[p, c] * weight[c, o] + offset[o]) * factor[o]))``."""
    channels, width = weight.shape
    acc = np.empty(width)
    for p in range(rows.shape[0]):
        for o in range(width):
            acc[o] = offset[o]
        for c in range(channels):
            v = np.float64(rows[p, c])
            for o in range(width):
                acc[o] += weight[c, o] * v
        for o in range(width):
            out[p, o] = min(max(math.floor(acc[o] * factor[o]), -limit), limit)


@jit
def lookup(x, values, start, low, length, slope, offset, out):
    """The ``lut`` op on rows ``x`` (P, C) of integers: per channel ``c`` with ``start[c] >= 0``,
    ``values[start[c] + clip(v - low[c], 0, length[c] - 1)]`` below ``low[c] + length[c]``, else
    ``v * slope[c] + offset[c]``; channels with ``start[c] < 0`` pass unchanged. float64 throughout."""
    for p in range(x.shape[0]):
        for c in range(x.shape[1]):
            v = np.float64(x[p, c])
            if start[c] < 0:
                out[p, c] = v
            elif v < low[c] + length[c]:
                out[p, c] = values[start[c] + int(min(max(v - low[c], 0.0), length[c] - 1.0))]
            else:
                out[p, c] = v * slope[c] + offset[c]


@jit
def requant_rows(acc, offset, factor, limit, relu, out):
    """``out[p, o] = clamp(floor((acc[p, o] + offset[o]) * factor[o]), -limit, limit)`` in float64
    (exact: ``acc`` holds integers, their sums below 2**53), then ``max(., 0)`` if ``relu``."""
    for p in range(acc.shape[0]):
        for o in range(acc.shape[1]):
            y = min(max(math.floor((np.float64(acc[p, o]) + offset[o]) * factor[o]), -limit), limit)
            out[p, o] = max(y, 0.0) if relu else y
