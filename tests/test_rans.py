"""The rANS coder: kernels against the plain-Python reference, the empty-tail
rule, serialization, and the rate of the coder itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaezip.rans import (
    FILLER_WORD,
    MAX_PRECISION,
    STATE_LOWER,
    FormatError,
    Message,
    pop_table,
    push_intervals,
)
from vaezip.rans.reference import ReferenceMessage


def random_intervals(rng, count, precision):
    """Random valid (start, freq) pairs at ``precision``."""
    total = 1 << precision
    freqs = np.minimum(rng.geometric(1.0 / max(total / 8, 1.0), count), total)
    starts = (rng.random(count) * (total - freqs + 1)).astype(np.int64)
    return starts, freqs.astype(np.int64)


def random_table(rng, symbols, precision):
    inner = np.sort(rng.choice(np.arange(1, 1 << precision), symbols - 1, replace=False))
    return np.concatenate([[0], inner, [1 << precision]]).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, MAX_PRECISION), st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_push_matches_reference_word_for_word(precision, count, seed):
    rng = np.random.default_rng(seed)
    starts, freqs = random_intervals(rng, count, precision)
    msg = Message()
    push_intervals(msg, starts, freqs, precision)
    ref = ReferenceMessage()
    for start, freq in zip(starts[::-1], freqs[::-1]):
        ref.push(int(start), int(freq), precision)
    assert msg.to_words().tolist() == ref.to_words()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 16), st.integers(2, 64), st.integers(0, 2000), st.integers(0, 2**32 - 1))
def test_table_round_trip(precision, symbols, count, seed):
    symbols = min(symbols, 1 << precision)
    rng = np.random.default_rng(seed)
    cdf = random_table(rng, symbols, precision)
    x = rng.integers(0, symbols, count)
    msg = Message()
    push_intervals(msg, cdf[x], cdf[x + 1] - cdf[x], precision)
    decoded = Message.from_bytes(msg.to_bytes())
    assert pop_table(decoded, cdf, count, precision).tolist() == x.tolist()
    decoded.finish(0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 16), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_pop_matches_reference(precision, words, seed):
    """Popping from arbitrary words: the kernels and the reference agree step by step."""
    rng = np.random.default_rng(seed)
    symbols = min(5, 1 << precision)
    cdf = random_table(rng, symbols, precision)
    data = rng.integers(0, 2**32, words + 2, dtype=np.uint64).astype(np.uint32)
    data[-1] |= 1  # a valid final state is at least STATE_LOWER
    msg = Message.from_words(data)
    msg.strict = False
    ref = ReferenceMessage()
    ref.tail = [int(w) for w in data[:-2]]
    ref.state = int(data[-2]) | int(data[-1]) << 32
    out = pop_table(msg, cdf, 50, precision)
    for sym in out:
        cf = ref.peek(precision)
        assert cdf[sym] <= cf < cdf[sym + 1]
        ref.pop(int(cdf[sym]), int(cdf[sym + 1] - cdf[sym]), precision)
    assert msg.to_words().tolist() == ref.to_words()
    assert msg.fillers == ref.fillers


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_surjectivity_pop_then_push_gives_the_words_back(precision, words, seed):
    rng = np.random.default_rng(seed)
    cdf = random_table(rng, min(7, 1 << precision), precision)
    data = rng.integers(0, 2**32, words + 2, dtype=np.uint64).astype(np.uint32)
    data[-1] |= 1
    msg = Message.from_words(data)
    msg.strict = False  # popping more than the words hold reads fillers
    x = pop_table(msg, cdf, 3 * words, precision)
    push_intervals(msg, cdf[x], cdf[x + 1] - cdf[x], precision)
    # words borrowed past the bottom come back as filler words below the data
    assert msg.to_words().tolist() == [FILLER_WORD] * msg.fillers + data.tolist()


def test_empty_tail_reads_fillers_during_compression_and_decompression_regenerates_them():
    rng = np.random.default_rng(1)
    precision = 12
    cdf = random_table(rng, 16, precision)
    msg = Message()
    drawn = pop_table(msg, cdf, 100, precision)  # no clean bits yet: fillers are read
    assert msg.fillers > 0
    borrowed = msg.fillers
    x = rng.integers(0, 16, 500)
    push_intervals(msg, cdf[x], cdf[x + 1] - cdf[x], precision)
    push_intervals(msg, cdf[drawn], cdf[drawn + 1] - cdf[drawn], precision)  # "push back" ...
    # decompression: a strict message from the file undoes everything in reverse
    dec = Message.from_bytes(msg.to_bytes())
    assert pop_table(dec, cdf, 100, precision).tolist() == drawn.tolist()
    assert pop_table(dec, cdf, 500, precision).tolist() == x.tolist()
    # the posterior pop is undone by a push, which regenerates the filler words
    push_intervals(dec, cdf[drawn], cdf[drawn + 1] - cdf[drawn], precision)
    dec.finish(borrowed)
    with pytest.raises(FormatError):
        dec.finish(borrowed + 1)


def test_strict_message_raises_on_pop_past_the_end():
    msg = Message()
    push_intervals(msg, [0], [1], 1)  # one bit
    dec = Message.from_words(msg.to_words())
    cdf = np.array([0, 1, 2])
    with pytest.raises(FormatError, match="ended early"):
        pop_table(dec, cdf, 200, 1)


@pytest.mark.parametrize(
    "words, message",
    [
        (np.array([], dtype=np.uint32), "at least two words"),
        (np.array([5], dtype=np.uint32), "at least two words"),
        (np.array([7, 0], dtype=np.uint32), "invalid final state"),
    ],
)
def test_from_words_validates(words, message):
    with pytest.raises(FormatError, match=message):
        Message.from_words(words)


def test_from_bytes_rejects_partial_words():
    with pytest.raises(FormatError, match="whole number"):
        Message.from_bytes(b"\x00" * 9)


def test_finish_detects_leftover_data():
    msg = Message()
    push_intervals(msg, [3] * 40, [1] * 40, 8)
    dec = Message.from_words(msg.to_words())
    pop_table(dec, np.arange(257), 20, 8)
    with pytest.raises(FormatError):
        dec.finish(0)


def test_serialization_round_trip_and_layout():
    msg = Message()
    push_intervals(msg, np.arange(100) % 7, np.ones(100, dtype=np.int64), 3)
    words = msg.to_words()
    assert words[:-2].tolist() == msg.words.tolist()
    assert int(words[-2]) | int(words[-1]) << 32 == int(msg.state)
    again = Message.from_bytes(msg.to_bytes())
    assert again.to_words().tolist() == words.tolist() and again.strict
    assert len(msg.to_bytes()) * 8 == msg.num_bits()


def test_initial_message():
    msg = Message()
    assert int(msg.state) == STATE_LOWER and msg.length == 0 and msg.num_bits() == 64
    msg.finish(0)


def test_copy_is_independent():
    msg = Message()
    push_intervals(msg, [1, 2, 3], [1, 1, 1], 4)
    other = msg.copy()
    push_intervals(other, [5] * 50, [1] * 50, 4)
    assert msg.length != other.length or int(msg.state) != int(other.state)
    assert Message.from_words(msg.to_words()).to_words().tolist() == msg.to_words().tolist()


@pytest.mark.parametrize("bad", [0, 25, -1, 2.5])
def test_bad_precision(bad):
    with pytest.raises(ValueError, match="precision"):
        push_intervals(Message(), [0], [1], bad)


def test_bad_intervals():
    with pytest.raises(ValueError, match="freq >= 1"):
        push_intervals(Message(), [0], [0], 4)
    with pytest.raises(ValueError, match="freq >= 1"):
        push_intervals(Message(), [15], [2], 4)
    with pytest.raises(ValueError, match="same number"):
        push_intervals(Message(), [0, 1], [1], 4)
    with pytest.raises(ValueError, match="cdf"):
        pop_table(Message(), [0, 3, 3, 16], 1, 4)


def test_coder_rate_is_the_information_content_plus_a_flush():
    """10**6 symbols: coded bits <= information content * 1.001 + 64."""
    rng = np.random.default_rng(7)
    precision = 16
    probs = rng.dirichlet(np.full(40, 0.4))
    cdf = np.concatenate([[0], np.cumsum(np.maximum(1, np.round(probs * (1 << precision) * 0.99)))])
    cdf[-1] = 1 << precision
    cdf = np.maximum.accumulate(cdf)
    assert np.all(np.diff(cdf) >= 1)
    x = rng.choice(40, size=10**6, p=np.diff(cdf) / (1 << precision))
    freqs = cdf[x + 1] - cdf[x]
    information = float(np.sum(precision - np.log2(freqs)))
    msg = Message()
    push_intervals(msg, cdf[x], freqs, precision)
    assert information <= msg.num_bits() <= information * 1.001 + 64
