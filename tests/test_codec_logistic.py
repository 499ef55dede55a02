"""DiscretizedLogistic and LogisticMixture: extremes, exact tables, inverse, surjectivity, rate, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_inverse, check_rate, check_surjective, check_table, roundtrip
from vaezip.codecs import DiscretizedLogistic, LogisticMixture
from vaezip.rans import Message

SETTINGS = settings(max_examples=60, deadline=None)
means = st.one_of(st.sampled_from([-1e6, -0.5, 0.0, 127.5, 255.0, 1e6]), st.floats(-300, 600))
scales = st.one_of(st.sampled_from([1e-9, 1e-6, 0.01, 1.0, 30.0, 1e9, 1e12]), st.floats(1e-3, 1e3))


@st.composite
def depth_and_precision(draw, max_depth=16):
    depth = draw(st.integers(1, max_depth))
    return depth, draw(st.integers(depth + 1, 24))


def float_logistic_pmf(x, mean, scale, n):
    cdf = lambda t: 1 / (1 + np.exp(-(t - mean) / scale))  # noqa: E731
    upper = np.where(x == n - 1, 1.0, cdf(x + 0.5))
    lower = np.where(x == 0, 0.0, cdf(x - 0.5))
    return upper - lower


@SETTINGS
@given(depth_and_precision(), st.lists(st.tuples(means, scales), max_size=30), st.integers(0, 2**32 - 1))
def test_roundtrip(dp, params, seed):
    depth, precision = dp
    family = DiscretizedLogistic(depth, precision)
    m = np.array([p[0] for p in params], dtype=float)
    s = np.array([p[1] for p in params], dtype=float)
    x = np.random.default_rng(seed).integers(0, 1 << depth, m.size)
    roundtrip(lambda msg, v: family.push(msg, v, mean=m, scale=s), lambda msg: family.pop(msg, mean=m, scale=s), x)


@SETTINGS
@given(st.integers(1, 8), st.integers(1, 3), st.lists(st.tuples(means, scales, st.floats(-50, 50)), min_size=3,
                                                     max_size=3), st.integers(0, 2**32 - 1), st.integers(0, 8))
def test_mixture_roundtrip(depth, k, comps, seed, size):
    family = LogisticMixture(depth, depth + 1 + seed % (24 - depth))
    rng = np.random.default_rng(seed)
    comps = comps[:k]
    mu = np.tile([c[0] for c in comps], (size, 1))
    sc = np.tile([c[1] for c in comps], (size, 1))
    lg = np.tile([c[2] for c in comps], (size, 1))
    x = rng.integers(0, 1 << depth, size)
    roundtrip(lambda msg, v: family.push(msg, v, logits=lg, means=mu, scales=sc),
              lambda msg: family.pop(msg, logits=lg, means=mu, scales=sc), x)


@SETTINGS
@given(st.integers(1, 8), means, scales, st.data())
def test_table_exhaustive(depth, mean, scale, data):
    precision = data.draw(st.integers(depth + 1, 24))
    family = DiscretizedLogistic(depth, precision)
    x = np.arange(1 << depth)
    check_table(*family.interval(x, mean=mean, scale=scale), precision)
    mix = LogisticMixture(depth, precision)
    p = {"logits": [[0.0, -1.0]], "means": [[mean, 3.0]], "scales": [[scale, 0.5]]}
    check_table(*mix.interval(x, **{k: np.repeat(v, x.size, 0) for k, v in p.items()}), precision)


@pytest.mark.parametrize("depth,precision", [(1, 2), (2, 4), (3, 6), (4, 8)])
@pytest.mark.parametrize("mean,scale", [(-1e6, 1.0), (0.3, 1e-6), (2.0, 0.7), (1e6, 1e9), (5.0, 30.0)])
def test_inverse_exhaustive(depth, precision, mean, scale):
    family = DiscretizedLogistic(depth, precision)
    check_inverse(lambda m: family.pop(m, mean=[mean], scale=[scale]),
                  lambda x: family.interval([x], mean=mean, scale=scale), precision)
    mix = LogisticMixture(depth, precision)
    p = {"logits": [[0.5, 0.0]], "means": [[mean, 1.0]], "scales": [[scale, 2.0]]}
    check_inverse(lambda m: mix.pop(m, **p), lambda x: mix.interval([x], **p), precision)


@SETTINGS
@given(depth_and_precision(max_depth=12), st.lists(st.tuples(means, scales), min_size=1, max_size=40),
       st.integers(0, 2**32 - 1))
def test_surjective(dp, params, seed):
    depth, precision = dp
    family = DiscretizedLogistic(depth, precision)
    m = np.array([p[0] for p in params])
    s = np.array([p[1] for p in params])
    check_surjective(lambda msg: family.pop(msg, mean=m, scale=s),
                     lambda msg, v: family.push(msg, v, mean=m, scale=s), m.size, seed)


def test_information_bits():
    family = DiscretizedLogistic(8, 16)
    x = np.arange(0, 256, 7)
    _, freqs = family.interval(x, mean=100.0, scale=20.0)
    assert family.information_bits(x, mean=100.0, scale=20.0) == pytest.approx(np.sum(16 - np.log2(freqs)), rel=1e-12)


def test_rate():
    rng = np.random.default_rng(8)
    n = 10**6
    mean = rng.uniform(0, 255, n)
    scale = rng.uniform(2, 20, n)
    x = np.clip(np.round(rng.logistic(mean, scale)), 0, 255).astype(np.int64)
    family = DiscretizedLogistic(8, 16)
    float_bits = -np.sum(np.log2(float_logistic_pmf(x, mean, scale, 256)))
    check_rate(lambda m, v: family.push(m, v, mean=mean, scale=scale), x,
               family.information_bits(x, mean=mean, scale=scale), float_bits)


def test_errors():
    family = DiscretizedLogistic(8, 12)
    msg = Message()
    with pytest.raises(ValueError, match="finite"):
        family.push(msg, [0], mean=np.nan, scale=1.0)
    with pytest.raises(ValueError, match="positive"):
        family.push(msg, [0], mean=0.0, scale=-1.0)
    with pytest.raises(ValueError, match="positive"):
        family.pop(msg, mean=[0.0], scale=[0.0])
    with pytest.raises(ValueError, match="broadcast"):
        family.push(msg, [0, 1, 2], mean=[0.0, 1.0], scale=1.0)
    with pytest.raises(ValueError, match=r"\[0, 256\)"):
        family.push(msg, [256], mean=0.0, scale=1.0)
    with pytest.raises(ValueError, match="bit_depth"):
        DiscretizedLogistic(0)
    with pytest.raises(ValueError, match="bit_depth"):
        LogisticMixture(17)
    with pytest.raises(ValueError, match="too small"):
        DiscretizedLogistic(8, 8)
    mix = LogisticMixture(8, 12)
    with pytest.raises(ValueError, match="positive"):
        mix.push(msg, [0], logits=[[0.0, 0.0]], means=[[1.0, 2.0]], scales=[[1.0, -1.0]])
    with pytest.raises(ValueError, match="finite"):
        mix.push(msg, [0], logits=[[np.inf, 0.0]], means=[[1.0, 2.0]], scales=[[1.0, 1.0]])
    assert msg.length == 0 and int(msg.state) == 1 << 32
