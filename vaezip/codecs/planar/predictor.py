"""The context model, shared by push and pop: virtual-edge neighbours, the median-edge prediction,
the contexts that choose a table, and run mode's block lengths. See ``vaezip.codecs.planar``,
"Neighbours and prediction" and "Run mode"."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.planar.residuals import bit_length
from vaezip.rans._jit import jit

NUM_ACTIVITY = 36  # contexts of bit depths 2..16 (2 per octave of activity)
BINARY_TEMPLATE = 10  # neighbours in the bit-depth-1 context
NUM_RUN_TABLES = 32
# block length of run index k is 2**RUN_BLOCK_BITS[k]: 1, 1, 2, 2, 4, 4, ... 2**15
RUN_BLOCK_BITS = np.minimum(np.arange(NUM_RUN_TABLES) // 2, 15).astype(np.int64)
RUN_K_MAX = NUM_RUN_TABLES - 1


def num_contexts(bit_depth: int) -> int:
    """Number of token tables (the last one codes the pixels that stop a run)."""
    return (1 << BINARY_TEMPLATE if bit_depth == 1 else NUM_ACTIVITY) + 1


@jit(inline="always")
def _neighbours(img, i, j, mid):
    """Virtual-edge neighbours ``a, b, c, d`` (W, N, NW, NE) of pixel (i, j); see the module docstring."""
    width = img.shape[1]
    if i == 0:
        if j == 0:
            return mid, mid, mid, mid
        a = img[0, j - 1]
        return a, a, (img[0, j - 2] if j >= 2 else a), a
    b = img[i - 1, j]
    if j == 0:
        a = b
        c = b
    else:
        a = img[i, j - 1]
        c = img[i - 1, j - 1]
    d = img[i - 1, j + 1] if j + 1 < width else b
    return a, b, c, d


@jit(inline="always")
def med(a, b, c):
    """The median-edge prediction, written as ``a + b - c`` clamped to ``[min(a, b), max(a, b)]``."""
    return max(min(a, b), min(max(a, b), a + b - c))


@jit(inline="always")
def _activity_context(a, b, c, d, u_w):
    g = abs(d - b) + abs(b - c) + abs(c - a) + u_w
    n = bit_length(g)
    q = 2 * n + ((g >> (n - 2)) & 1 if n >= 2 else 0)
    return min(q, NUM_ACTIVITY - 1)


@jit(inline="always")
def _binary_context(img, i, j):
    """Ten-neighbour template of a bit-depth-1 plane (0 outside the plane)."""
    width = img.shape[1]
    q = 0
    for dj in (1, 2):
        q = (q << 1) | (img[i, j - dj] if j >= dj else 0)
    if i >= 1:
        for dj in (-2, -1, 0, 1, 2):
            jj = j + dj
            q = (q << 1) | (img[i - 1, jj] if 0 <= jj < width else 0)
    else:
        q <<= 5
    if i >= 2:
        for dj in (-1, 0, 1):
            jj = j + dj
            q = (q << 1) | (img[i - 2, jj] if 0 <= jj < width else 0)
    else:
        q <<= 3
    return q


@jit(inline="always")
def predict(img, i, j, depth, u_w):
    """``(pred, context, flat)`` of pixel (i, j) from the pixels before it."""
    a, b, c, d = _neighbours(img, i, j, 1 << (depth - 1))
    pred = med(a, b, c)
    flat = a == b and b == c and c == d
    if depth == 1:
        return pred, _binary_context(img, i, j), flat
    return pred, _activity_context(a, b, c, d, u_w), flat
