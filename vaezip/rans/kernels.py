"""Numba kernels of the rANS coder: scalar push/pop steps and array loops.

The state is a uint64 kept in ``[STATE_LOWER, 2**64)``; renormalization moves
one 32-bit word at a time between the state and the tail (a uint32 stack).
A symbol is described by its interval ``[start, start + freq)`` inside
``[0, 2**precision)``::

      0        start      start+freq                 2**precision
      |----------[=========)----------------------------|
                   freq

Push appends the interval to the state; pop reads ``cf = state mod
2**precision`` (the *peeked* cumulative frequency), the caller finds the
symbol whose interval holds ``cf``, and ``advance`` removes that interval.

The scalar steps (``push_step``, ``peek``, ``pop_step``) are what the codec
kernels in ``vaezip.codecs`` call inside their own loops; they are tiny and
LLVM inlines them. All arithmetic is on uint64: mixing signed and unsigned
integers in Numba silently produces floats.
"""

from __future__ import annotations

import numpy as np

from vaezip.rans._jit import jit

MAX_PRECISION = 24
WORD_BITS = 32
STATE_LOWER = 1 << 32  # the state stays in [STATE_LOWER, 2**64)
FILLER_WORD = 0x9E3779B9  # read in place of a missing word during compression

# status codes returned by pop kernels
OK = 0
UNDERFLOW = 1  # a strict message needed a word its tail does not have

_U32 = np.uint64(32)
_MASK32 = np.uint64(0xFFFFFFFF)
_LOWER = np.uint64(STATE_LOWER)
_FILLER = np.uint32(FILLER_WORD)


@jit
def push_step(state, tail, length, start, freq, precision):
    """Push the interval ``[start, start+freq)``; return ``(state, length)``.

    ``tail`` must have room for one more word at ``tail[length]``. The
    renormalization is branch-free (the low word is always stored and kept
    only when needed): a mispredicted branch here would throw away the
    frequency computations the CPU runs ahead on for the next symbols.
    """
    f = np.uint64(freq)
    renorm = (state >> np.uint64(64 - precision)) >= f  # state >= f * 2**(64-precision)
    tail[length] = np.uint32(state & _MASK32)
    length += np.int64(renorm)
    state = state >> (np.uint64(renorm) * _U32)
    return ((state // f) << np.uint64(precision)) + state % f + np.uint64(start), length


@jit
def peek(state, precision):
    """The peeked cumulative frequency ``cf`` in ``[0, 2**precision)``."""
    return state & ((np.uint64(1) << np.uint64(precision)) - np.uint64(1))


@jit
def pop_step(state, tail, length, fillers, strict, start, freq, precision):
    """Remove the interval ``[start, start+freq)`` that holds ``peek(state)``.

    Returns ``(state, length, fillers, status)``. When the state needs a word
    and the tail is empty, a strict message (one read from a file) reports
    ``UNDERFLOW``; a non-strict one (compression) reads ``FILLER_WORD`` and
    counts it in ``fillers``.
    """
    cf = state & ((np.uint64(1) << np.uint64(precision)) - np.uint64(1))
    state = np.uint64(freq) * (state >> np.uint64(precision)) + cf - np.uint64(start)
    status = OK
    if state < _LOWER:
        if length > 0:
            length -= 1
            word = tail[length]
        elif strict:
            return state, length, fillers, UNDERFLOW
        else:
            word = _FILLER
            fillers += 1
        state = (state << _U32) | np.uint64(word)
    return state, length, fillers, status


@jit
def push_intervals(state, tail, length, starts, freqs, precision):
    """Push ``n`` intervals so that popping returns them in index order."""
    for i in range(starts.shape[0] - 1, -1, -1):
        state, length = push_step(state, tail, length, starts[i], freqs[i], precision)
    return state, length


@jit
def pop_table(state, tail, length, fillers, strict, cdf, n, precision, out):
    """Pop ``n`` symbols with one shared integer cumulative table ``cdf``.

    ``cdf`` has ``K + 1`` increasing entries from 0 to ``2**precision``;
    symbol ``k`` owns ``[cdf[k], cdf[k+1])``. Writes ``out[:n]``.
    """
    status = OK
    for i in range(n):
        cf = peek(state, precision)
        lo = 0
        hi = cdf.shape[0] - 1  # cdf[lo] <= cf < cdf[hi]
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if np.uint64(cdf[mid]) <= cf:
                lo = mid
            else:
                hi = mid
        out[i] = lo
        state, length, fillers, status = pop_step(
            state, tail, length, fillers, strict, cdf[lo], cdf[lo + 1] - cdf[lo], precision
        )
        if status != OK:
            break
    return state, length, fillers, status
