"""Categorical: probs and logits, one-hot rows, exact tables, inverse, surjectivity, rate, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_inverse, check_rate, check_surjective, check_table, roundtrip
from vaezip.codecs import Categorical
from vaezip.codecs.detmath import SNAP_LIMIT, exp_grid, snap_index
from vaezip.rans import Message

SETTINGS = settings(max_examples=60, deadline=None)


def reference_cdf(row, precision: int, logits: bool = False) -> list[int]:
    """C(0..K) written out in plain Python (same IEEE operations, same order)."""
    k = len(row)
    if logits:
        top = max(row)
        row = [exp_grid(snap_index(v - top, SNAP_LIMIT)) for v in row]
    total = 0.0
    for v in row:
        total += v
    span = 2**precision - k
    out, s = [0], 0.0
    for j in range(1, k):
        s += row[j - 1]
        out.append(math.floor(min(s / total, 1.0) * span) + j)
    return out + [2**precision]


@st.composite
def tables(draw, max_k=40, max_n=8):
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(0, max_n))
    precision = draw(st.integers(max(2, (2 * k - 1).bit_length()), 24))  # the least with 2K <= 2**precision
    kind = draw(st.sampled_from(["random", "one-hot", "sparse", "tiny", "logits"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "random":
        table = rng.random((n, k))
        table[:, 0] += 1e-3
    elif kind == "one-hot":
        table = np.eye(k)[rng.integers(0, k, n)]
    elif kind == "sparse":
        table = rng.random((n, k)) * (rng.random((n, k)) < 0.2)
        table[:, -1] += 1e-300
    elif kind == "tiny":
        table = rng.random((n, k)) * 1e-300 + 5e-324
    else:
        table = rng.normal(0, draw(st.sampled_from([1.0, 100.0, 1e6])), (n, k))
    return table, kind == "logits", precision, rng.integers(0, k, n)


@SETTINGS
@given(tables())
def test_roundtrip(t):
    table, is_logit, precision, x = t
    family = Categorical(precision)
    params = {"logits" if is_logit else "probs": table}
    roundtrip(lambda m, s: family.push(m, s, **params), lambda m: family.pop(m, **params), x)


@SETTINGS
@given(tables(max_k=12, max_n=6))
def test_table_exhaustive(t):
    table, is_logit, precision, _ = t
    family = Categorical(precision)
    k = table.shape[1]
    for row in table:
        key = "logits" if is_logit else "probs"
        starts, freqs = family.interval(np.arange(k), **{key: np.tile(row, (k, 1))})
        check_table(starts, freqs, precision)
        ref = reference_cdf(list(row), precision, is_logit)
        np.testing.assert_array_equal(starts, ref[:-1])
        np.testing.assert_array_equal(freqs, np.diff(ref))


def test_one_hot_and_big_k():
    family = Categorical(24)
    k = 1 << 20
    row = np.zeros(k)
    row[12345] = 1.0
    _, f = family.interval([12344, 12345, 12346], probs=np.broadcast_to(row, (3, k)))
    assert list(f) == [1, (1 << 24) - k + 1, 1]
    roundtrip(lambda m, x: family.push(m, x, probs=row[None]), lambda m: family.pop(m, probs=row[None]), np.array([12345]))


@pytest.mark.parametrize("precision", [3, 4, 6, 8])
@pytest.mark.parametrize("row", [[1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.0, 5.0], [1e-300, 1.0, 0.0, 1e-300]])
def test_inverse_exhaustive(row, precision):
    family = Categorical(precision)
    probs = np.array([row])
    check_inverse(lambda m: family.pop(m, probs=probs), lambda x: family.interval([x], probs=probs), precision)
    logits = np.log(np.array([row]) + 1e-9)
    check_inverse(lambda m: family.pop(m, logits=logits), lambda x: family.interval([x], logits=logits), precision)


@SETTINGS
@given(tables(max_n=50))
def test_surjective(t):
    table, is_logit, precision, _ = t
    family = Categorical(precision)
    params = {"logits" if is_logit else "probs": table}
    check_surjective(lambda m: family.pop(m, **params), lambda m, s: family.push(m, s, **params), len(table))


def test_single_category_is_free():
    family = Categorical(8)
    msg = Message()
    family.push(msg, [0, 0, 0], probs=np.ones((3, 1)))
    assert msg.length == 0 and int(msg.state) == 1 << 32
    np.testing.assert_array_equal(family.pop(msg, probs=np.ones((3, 1))), [0, 0, 0])
    assert family.information_bits([0, 0], logits=np.zeros((2, 1))) == 0.0


def test_binding_and_shapes():
    family = Categorical(12)
    rng = np.random.default_rng(3)
    probs = rng.random((2, 3, 5))
    x = rng.integers(0, 5, (2, 3))
    codec = family(probs=probs)
    roundtrip(codec.push, codec.pop, x)
    # one table broadcast over all symbols on push
    msg = Message()
    family.push(msg, x, probs=probs[0, 0])
    np.testing.assert_array_equal(family.pop(msg, probs=np.broadcast_to(probs[0, 0], (2, 3, 5))), x)


def test_unnormalized_probs_are_normalized():
    family = Categorical(16)
    row = np.array([[1.0, 2.0, 5.0]])
    for scale in [1e-200, 1.0, 1e200]:
        np.testing.assert_array_equal(family.interval([0, 1, 2], probs=np.repeat(row * scale, 3, 0))[1],
                                      family.interval([0, 1, 2], probs=np.repeat(row, 3, 0))[1])


def test_information_bits():
    family = Categorical(10)
    probs = np.random.default_rng(4).random((100, 6))
    x = np.arange(100) % 6
    _, freqs = family.interval(x, probs=probs)
    assert family.information_bits(x, probs=probs) == pytest.approx(np.sum(10 - np.log2(freqs)), rel=1e-12)


def test_rate():
    rng = np.random.default_rng(5)
    n, k = 10**6, 8
    probs = rng.dirichlet(np.ones(k), n)
    x = (probs.cumsum(1) < rng.random((n, 1))).sum(1).clip(0, k - 1)
    family = Categorical(16)
    float_bits = -np.sum(np.log2(probs[np.arange(n), x] / probs.sum(1)))
    check_rate(lambda m, s: family.push(m, s, probs=probs), x, family.information_bits(x, probs=probs), float_bits)


def test_errors():
    family = Categorical(8)
    msg = Message()
    ok = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="non-negative"):
        family.push(msg, [0], probs=[[0.5, -0.1]])
    with pytest.raises(ValueError, match="all-zero"):
        family.push(msg, [0], probs=[[0.0, 0.0]])
    with pytest.raises(ValueError, match="finite"):
        family.push(msg, [0], probs=[[np.nan, 1.0]])
    with pytest.raises(ValueError, match="finite"):
        family.push(msg, [0], probs=[[1e308, 1e308]])
    with pytest.raises(ValueError, match="finite"):
        family.pop(msg, logits=[[np.inf, 0.0]])
    with pytest.raises(ValueError, match="exactly one"):
        family.push(msg, [0], probs=ok, logits=ok)
    with pytest.raises(ValueError, match="exactly one"):
        family.pop(msg)
    with pytest.raises(ValueError, match="last axis"):
        family.push(msg, 0, probs=0.5)
    with pytest.raises(ValueError, match="broadcast"):
        family.push(msg, [0, 1, 1], probs=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        family.push(msg, [2], probs=ok)
    with pytest.raises(ValueError, match="too small"):
        family.push(msg, [0], probs=np.ones((1, 129)))
    with pytest.raises(ValueError, match="too small"):
        Categorical(1)
    assert msg.length == 0 and int(msg.state) == 1 << 32
