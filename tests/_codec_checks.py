"""Checks shared by the codec test files (round trip, table, inverse, surjectivity, rate)."""

from __future__ import annotations

import numpy as np

from vaezip.rans import FILLER_WORD, FormatError, Message, push_intervals

# A state whose low bits are cf for every precision <= 24 (2**40 is a multiple of 2**precision).
_STATE_BASE = 1 << 40


def roundtrip(push, pop, symbols, *, preload: int = 3, seed: int = 0):
    """Push ``symbols`` on a message already holding ``preload`` random words, pop them back.

    Checks the popped symbols, and that the message is word for word what it
    was before the push. Returns the popped array.
    """
    msg = Message()
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 1 << 16, preload)  # 16 bits each, through the raw interval API
    push_intervals(msg, words, np.ones_like(words), 16)
    before = msg.to_words().copy()
    push(msg, symbols)
    out = pop(msg)
    assert np.shape(out) == np.shape(symbols)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(symbols))
    np.testing.assert_array_equal(msg.to_words(), before)
    return out


def check_table(starts, freqs, precision: int) -> None:
    """``(starts, freqs)`` of every symbol of the support, in order: an exact partition."""
    starts = np.asarray(starts, dtype=np.int64)
    freqs = np.asarray(freqs, dtype=np.int64)
    assert freqs.min() >= 1, f"a symbol has freq {freqs.min()}"
    assert starts[0] == 0
    np.testing.assert_array_equal(starts[1:], np.cumsum(freqs)[:-1])
    assert starts[-1] + freqs[-1] == 1 << precision


def check_inverse(pop_one, interval_of, precision: int) -> None:
    """For every cf in ``[0, 2**precision)``, pop returns the symbol whose interval holds cf.

    ``pop_one(msg)`` pops one symbol, ``interval_of(x) -> (start, freq)``.
    """
    for cf in range(1 << precision):
        msg = Message()
        msg.state = np.uint64(_STATE_BASE + cf)
        x = int(np.asarray(pop_one(msg)).ravel()[0])
        start, freq = (int(np.asarray(v).ravel()[0]) for v in interval_of(x))
        assert start <= cf < start + freq, f"cf={cf} popped {x} with interval [{start}, {start + freq})"


def check_surjective(pop, push, count: int, seed: int = 0) -> None:
    """Pop from random words, push back what was popped: the same words come back.

    ``count`` bounds the number of words a pop may read (one per symbol at most).
    """
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**32, count + 4, dtype=np.uint64).astype(np.uint32)
    words[-1] = max(int(words[-1]), 1)  # a valid state is >= 2**32
    msg = Message.from_words(words)
    symbols = pop(msg)
    push(msg, symbols)
    np.testing.assert_array_equal(msg.to_words(), words)
    assert msg.fillers == 0


def check_rate(push, symbols, information_bits: float, float_bits: float | None = None) -> None:
    """Coded size within 0.1 % + 64 bits of the quantized information, which is within 0.5 % of the float one."""
    msg = Message()
    push(msg, symbols)
    coded = msg.num_bits()
    assert information_bits - 64 <= coded <= information_bits * 1.001 + 64, (coded, information_bits)
    if float_bits is not None:
        assert abs(information_bits - float_bits) <= 0.005 * float_bits, (information_bits, float_bits)


def check_strict_underflow(pop) -> None:
    """``pop`` needs more words than a bare state: on a strict (file) message it raises FormatError."""
    msg = Message.from_words(np.array([FILLER_WORD, 1], dtype=np.uint32))
    try:
        pop(msg)
    except FormatError:
        return
    raise AssertionError("pop past the end of a strict message did not raise FormatError")
