"""Residuals of the model-free coder: folded to ``u >= 0``, split into a token and raw low bits.

See ``vaezip.codecs.planar``, "Regular pixels".
"""

from __future__ import annotations

import numpy as np

from vaezip.rans._jit import jit

DIRECT_TOKENS = 16  # u < 16 is its own token
MANTISSA_BITS = 2  # bits below the leading one that go into the token


def num_tokens(bit_depth: int) -> int:
    """Number of residual tokens at ``bit_depth``: ``2**bit_depth`` up to 16, then 4 per extra bit."""
    if bit_depth <= 4:
        return 1 << bit_depth
    return DIRECT_TOKENS + (bit_depth - 4) * (1 << MANTISSA_BITS)


@jit(inline="always")
def bit_length(v):
    """Number of bits of ``v`` in ``[0, 2**32)`` (0 for 0), without data-dependent branches."""
    n = np.int64(v > 0xFFFF) << 4
    v >>= n
    s = np.int64(v > 0xFF) << 3
    v >>= s
    n += s
    s = np.int64(v > 0xF) << 2
    v >>= s
    n += s
    s = np.int64(v > 0x3) << 1
    v >>= s
    n += s
    s = np.int64(v > 0x1)
    return n + s + (v >> s)


@jit(inline="always")
def tokenize(u):
    """``(token, raw_bits, raw)`` of a folded residual ``u``."""
    if u < DIRECT_TOKENS:
        return u, 0, 0
    e = bit_length(u) - 1  # >= 4
    nb = e - MANTISSA_BITS
    token = DIRECT_TOKENS + ((e - 4) << MANTISSA_BITS) + ((u >> nb) & ((1 << MANTISSA_BITS) - 1))
    return token, nb, u & ((1 << nb) - 1)


@jit
def raw_bits(token):
    """Number of raw bits that follow ``token``."""
    if token < DIRECT_TOKENS:
        return 0
    return ((token - DIRECT_TOKENS) >> MANTISSA_BITS) + 4 - MANTISSA_BITS


@jit
def untokenize(token, raw):
    if token < DIRECT_TOKENS:
        return token
    t = token - DIRECT_TOKENS
    nb = (t >> MANTISSA_BITS) + 4 - MANTISSA_BITS
    return (((1 << MANTISSA_BITS) | (t & ((1 << MANTISSA_BITS) - 1))) << nb) | raw


@jit
def fold(x, pred, depth):
    """Residual of ``x`` modulo ``2**depth``, folded to ``u >= 0``."""
    half = 1 << (depth - 1)
    e = ((x - pred + half) & ((1 << depth) - 1)) - half
    return 2 * e if e >= 0 else -2 * e - 1


@jit
def unfold(u, pred, depth):
    e = (u >> 1) ^ -(u & 1)
    return (pred + e) & ((1 << depth) - 1)
