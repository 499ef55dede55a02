"""Bernoulli: p and logit forms, extreme p, exact tables, inverse, surjectivity, rate, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_inverse, check_rate, check_surjective, check_table, roundtrip
from vaezip.codecs import Bernoulli
from vaezip.codecs.detmath import SNAP_LIMIT, sigmoid_grid, snap_index
from vaezip.rans import Message

SETTINGS = settings(max_examples=60, deadline=None)
EXTREME_P = [0.0, 1e-12, 0.5, 1 - 1e-12, 1.0]
probabilities = st.one_of(st.sampled_from(EXTREME_P), st.floats(0.0, 1.0))
logits = st.one_of(st.sampled_from([-1e300, -1e6, -64.0, 0.0, 64.0, 1e6, 1e300]), st.floats(-80, 80))


def reference_f1(p: float, precision: int) -> int:
    """Frequency of symbol 1, written out in plain Python."""
    return math.floor(p * (2**precision - 2) + 0.5) + 1


@SETTINGS
@given(st.lists(probabilities, min_size=0, max_size=40), st.integers(2, 24), st.integers(0, 2**32 - 1))
def test_roundtrip_p(ps, precision, seed):
    family = Bernoulli(precision)
    p = np.array(ps, dtype=float)
    x = (np.random.default_rng(seed).random(p.size) < p).astype(np.int64)
    x[: p.size // 4] ^= 1  # some unlikely (even impossible-under-p) symbols
    roundtrip(lambda m, s: family.push(m, s, p=p), lambda m: family.pop(m, p=p), x)


@SETTINGS
@given(st.lists(logits, min_size=1, max_size=40), st.integers(2, 24), st.integers(0, 2**32 - 1))
def test_roundtrip_logit(ls, precision, seed):
    family = Bernoulli(precision)
    logit = np.array(ls, dtype=float)
    x = np.random.default_rng(seed).integers(0, 2, logit.size)
    roundtrip(lambda m, s: family.push(m, s, logit=logit), lambda m: family.pop(m, logit=logit), x)


def test_binding_and_broadcast():
    family = Bernoulli(12)
    x = np.array([[0, 1, 1], [1, 0, 0]])
    p = np.array([[0.1, 0.5, 0.9], [0.3, 0.0, 1.0]])
    codec = family(p=p)
    roundtrip(codec.push, codec.pop, x)
    # a scalar p broadcasts on push; pop takes its shape from p
    msg = Message()
    family.push(msg, x, p=0.3)
    np.testing.assert_array_equal(family.pop(msg, p=np.full(x.shape, 0.3)), x)


@pytest.mark.parametrize("precision", [2, 3, 8, 16, 24])
@pytest.mark.parametrize("p", EXTREME_P + [0.25, 1 / 3, 0.999])
def test_table_exhaustive(p, precision):
    family = Bernoulli(precision)
    starts, freqs = family.interval([0, 1], p=p)
    check_table(starts, freqs, precision)
    assert freqs[1] == reference_f1(p, precision)
    if p == 0.5:
        assert freqs[0] == freqs[1]


def test_p_and_one_minus_p_cost_the_same():
    family = Bernoulli(16)
    for p in [1e-12, 0.01, 0.3, 0.5]:
        _, f = family.interval([0, 1], p=p)
        _, g = family.interval([1, 0], p=1 - p)
        np.testing.assert_array_equal(f, g)


@pytest.mark.parametrize("logit", [-1e300, -100.0, -3.3, 0.0, 1e-7, 2.75, 64.0, 1e6])
def test_logit_matches_detmath(logit):
    family = Bernoulli(20)
    starts, freqs = family.interval([0, 1], logit=logit)
    check_table(starts, freqs, 20)
    assert freqs[1] == reference_f1(sigmoid_grid(snap_index(logit, SNAP_LIMIT)), 20)
    # and is the probability form up to the snapping of the logit
    p = 1 / (1 + math.exp(-min(max(logit, -700), 700)))
    assert abs(freqs[1] - reference_f1(p, 20)) <= 1


@pytest.mark.parametrize("precision", [2, 3, 5, 8])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.7, 1.0])
def test_inverse_exhaustive(p, precision):
    family = Bernoulli(precision)
    check_inverse(lambda m: family.pop(m, p=[p]), lambda x: family.interval([x], p=p), precision)


@SETTINGS
@given(st.lists(probabilities, min_size=1, max_size=60), st.integers(2, 24), st.integers(0, 2**32 - 1))
def test_surjective(ps, precision, seed):
    family = Bernoulli(precision)
    p = np.array(ps)
    check_surjective(lambda m: family.pop(m, p=p), lambda m, s: family.push(m, s, p=p), p.size, seed)


def test_information_bits():
    family = Bernoulli(16)
    p = np.array([0.0, 1e-12, 0.5, 0.9, 1.0])
    x = np.array([1, 0, 1, 0, 0])
    _, freqs = family.interval(x, p=p)
    assert family.information_bits(x, p=p) == pytest.approx(np.sum(16 - np.log2(freqs)), rel=1e-12)
    # an impossible symbol costs precision bits, a certain one almost nothing
    assert family.information_bits([1], p=0.0) == 16
    assert family.information_bits([0], p=0.0) < 1e-4


def test_rate():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, 10**6)
    x = (rng.random(p.size) < p).astype(np.int64)
    family = Bernoulli(16)
    float_bits = -np.sum(np.log2(np.where(x == 1, p, 1 - p)))
    check_rate(lambda m, s: family.push(m, s, p=p), x, family.information_bits(x, p=p), float_bits)


def test_errors():
    family = Bernoulli(8)
    msg = Message()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        family.push(msg, [0, 1], p=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        family.push(msg, [0], p=[-0.1])
    with pytest.raises(ValueError, match="finite"):
        family.push(msg, [0], p=[np.nan])
    with pytest.raises(ValueError, match="finite"):
        family.pop(msg, logit=[np.inf])
    with pytest.raises(ValueError, match="exactly one"):
        family.push(msg, [0], p=0.5, logit=0.0)
    with pytest.raises(ValueError, match="exactly one"):
        family.pop(msg)
    with pytest.raises(ValueError, match="broadcast"):
        family.push(msg, [0, 1, 1], p=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        family.push(msg, [2], p=0.5)
    with pytest.raises(ValueError, match="too small"):
        Bernoulli(1)
    with pytest.raises(ValueError, match="precision"):
        Bernoulli(25)
    assert msg.length == 0 and int(msg.state) == 1 << 32  # nothing was pushed
