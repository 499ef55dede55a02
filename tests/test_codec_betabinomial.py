"""BetaBinomial(255, a, b): pmf against lgamma, extreme a and b, exact tables, inverse, surjectivity, rate."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_inverse, check_rate, check_surjective, check_table, roundtrip
from vaezip.codecs import BetaBinomial
from vaezip.codecs.betabinomial import AB_MAX, AB_MIN, _table
from vaezip.rans import Message

SETTINGS = settings(max_examples=50, deadline=None)
N = 255
EXTREME = [1e-300, 1e-12, 1e-3, 0.5, 1.0, 3.0, 1e4, 1e12, 1e300]
shape_params = st.one_of(st.sampled_from(EXTREME), st.floats(-3, 4).map(lambda e: 10.0**e))
try:  # scipy is not a test dependency; it only makes the float reference faster
    from scipy.special import gammaln as _lgamma
except ImportError:  # pragma: no cover
    _lgamma = np.vectorize(math.lgamma, otypes=[float])


def reference_log_pmf(k, a, b):
    """log P(k) from lgamma (the float model of the rate test; loses ~1e-11 for large a, b)."""
    k, a, b = np.broadcast_arrays(np.asarray(k, float), np.asarray(a, float), np.asarray(b, float))
    return (_lgamma(N + 1.0) - _lgamma(k + 1) - _lgamma(N - k + 1) + _lgamma(k + a) + _lgamma(N - k + b)
            - _lgamma(N + a + b) - _lgamma(a) - _lgamma(b) + _lgamma(a + b))


def exact_pmf(a, b):
    """P(0..255) in exact rational arithmetic from the ratio recurrence, rounded to floats at the end."""
    a, b = Fraction(a), Fraction(b)
    v = [Fraction(1)]
    for k in range(N):
        v.append(v[-1] * ((N - k) * (k + a)) / ((k + 1) * ((N - k - 1) + b)))
    total = sum(v)
    return np.array([float(x / total) for x in v])


def kernel_cdf(a, b):
    """The kernel's running sums divided by their total: the float cdf that gets quantized."""
    s = np.empty(N + 2)
    _table(a, b, s, np.empty(N + 1, dtype=np.int64))
    return s / s[-1]


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (2.0, 3.0), (0.5, 0.5), (1e-3, 1e4), (1e4, 1e-3), (1e4, 1e4),
                                 (0.01, 0.02), (30.0, 0.7), (1e-3, 1e-3), (1e6, 2e6), (1e-12, 1e-12)])
def test_cdf_matches_exact(a, b):
    cdf = kernel_cdf(a, b)
    ref_pmf = exact_pmf(a, b)
    ref_cdf = np.concatenate([[0.0], np.cumsum(ref_pmf)])
    assert np.all(np.isfinite(cdf)) and np.all(np.diff(cdf) >= 0) and cdf[-1] == 1.0
    np.testing.assert_allclose(cdf, ref_cdf, rtol=0, atol=1e-12)
    # masses that the quantizer can see are accurate to far better than 2**-24
    pmf = np.diff(cdf)
    visible = ref_pmf > 1e-6
    np.testing.assert_allclose(pmf[visible], ref_pmf[visible], rtol=1e-8)


@SETTINGS
@given(shape_params, shape_params)
def test_cdf_finite_and_monotone(a, b):
    cdf = kernel_cdf(a, b)
    assert np.all(np.isfinite(cdf)) and np.all(np.diff(cdf) >= 0) and cdf[0] == 0.0 and cdf[-1] == 1.0


@SETTINGS
@given(st.lists(st.tuples(shape_params, shape_params), min_size=0, max_size=30),
       st.integers(9, 24), st.integers(0, 2**32 - 1))
def test_roundtrip(ab, precision, seed):
    family = BetaBinomial(precision)
    a = np.array([p[0] for p in ab], dtype=float)
    b = np.array([p[1] for p in ab], dtype=float)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, N + 1, a.size)
    likely = rng.binomial(N, rng.beta(np.clip(a, 1e-3, 1e4), np.clip(b, 1e-3, 1e4))) if a.size else x
    x = np.where(rng.random(a.size) < 0.5, x, likely)
    roundtrip(lambda m, s: family.push(m, s, a=a, b=b), lambda m: family.pop(m, a=a, b=b), x)


@SETTINGS
@given(shape_params, shape_params, st.sampled_from([9, 10, 12, 16, 24]))
def test_table_exhaustive(a, b, precision):
    family = BetaBinomial(precision)
    starts, freqs = family.interval(np.arange(N + 1), a=a, b=b)
    check_table(starts, freqs, precision)


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (2.0, 30.0), (1e-3, 1e-3), (1e4, 1e-3), (1e-12, 1e12)])
@pytest.mark.parametrize("precision", [9, 10])
def test_inverse_exhaustive(a, b, precision):
    family = BetaBinomial(precision)
    check_inverse(lambda m: family.pop(m, a=[a], b=[b]), lambda x: family.interval([x], a=a, b=b), precision)


@SETTINGS
@given(st.lists(st.tuples(shape_params, shape_params), min_size=1, max_size=40), st.integers(9, 24),
       st.integers(0, 2**32 - 1))
def test_surjective(ab, precision, seed):
    family = BetaBinomial(precision)
    a = np.array([p[0] for p in ab])
    b = np.array([p[1] for p in ab])
    check_surjective(lambda m: family.pop(m, a=a, b=b), lambda m, s: family.push(m, s, a=a, b=b), a.size, seed)


def test_clamping_keeps_the_mean():
    family = BetaBinomial(24)
    x = np.arange(N + 1)
    # beyond AB_MAX both are scaled together: a binomial with the same success probability
    _, f1 = family.interval(x, a=3 * AB_MAX, b=AB_MAX)
    _, f2 = family.interval(x, a=3e20, b=1e20)
    np.testing.assert_array_equal(f1, f2)
    assert np.argmax(f1) == round(N * 0.75)
    _, g1 = family.interval(x, a=AB_MIN, b=2.0)
    _, g2 = family.interval(x, a=1e-200, b=2.0)
    np.testing.assert_array_equal(g1, g2)


def test_binding_and_broadcast():
    family = BetaBinomial(14)
    rng = np.random.default_rng(6)
    a = rng.uniform(0.5, 5, (3, 4))
    x = rng.integers(0, N + 1, (3, 4))
    codec = family(a=a, b=2.0)
    msg = Message()
    codec.push(msg, x)
    np.testing.assert_array_equal(codec.pop(msg), x)


def test_information_bits():
    family = BetaBinomial(16)
    x = np.arange(0, 256, 5)
    _, freqs = family.interval(x, a=0.7, b=1.3)
    assert family.information_bits(x, a=0.7, b=1.3) == pytest.approx(np.sum(16 - np.log2(freqs)), rel=1e-12)


def test_rate():
    rng = np.random.default_rng(7)
    n = 10**6
    a = np.exp(rng.uniform(np.log(0.5), np.log(20), n))
    b = np.exp(rng.uniform(np.log(0.5), np.log(20), n))
    x = rng.binomial(N, rng.beta(a, b))
    family = BetaBinomial(16)
    float_bits = -np.sum(reference_log_pmf(x, a, b)) / math.log(2)
    check_rate(lambda m, s: family.push(m, s, a=a, b=b), x, family.information_bits(x, a=a, b=b), float_bits)


def test_errors():
    family = BetaBinomial(9)
    msg = Message()
    with pytest.raises(ValueError, match="a must be positive"):
        family.push(msg, [0], a=0.0, b=1.0)
    with pytest.raises(ValueError, match="b must be positive"):
        family.push(msg, [0], a=1.0, b=-2.0)
    with pytest.raises(ValueError, match="finite"):
        family.push(msg, [0], a=np.nan, b=1.0)
    with pytest.raises(ValueError, match="finite"):
        family.pop(msg, a=1.0, b=[np.inf])
    with pytest.raises(ValueError, match="broadcast"):
        family.push(msg, [0, 1, 2], a=[1.0, 2.0], b=1.0)
    with pytest.raises(ValueError, match="broadcast"):
        family.pop(msg, a=[1.0, 2.0], b=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\[0, 256\)"):
        family.push(msg, [256], a=1.0, b=1.0)
    with pytest.raises(ValueError, match="too small"):
        BetaBinomial(8)
    assert msg.length == 0 and int(msg.state) == 1 << 32
