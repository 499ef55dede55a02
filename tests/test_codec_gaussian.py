"""DiscretizedGaussian and GaussianLatent: round trips, exact quantization,
cdf/inverse agreement, surjectivity and rates."""

from __future__ import annotations

import hashlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from vaezip.codecs.gaussian import DiscretizedGaussian, GaussianLatent, latent_grid
from vaezip.rans import Message

extreme_means = st.sampled_from([-1e6, -40.0, -0.5, 0.0, 0.3, 3.0, 57.5, 1e6])
extreme_stds = st.sampled_from([1e-9, 1e-6, 0.01, 0.5, 1.0, 7.0, 1e3, 1e9])


def families():
    return [DiscretizedGaussian(5, 4), DiscretizedGaussian(201, 16), GaussianLatent(3, 5), GaussianLatent(8, 16)]


@pytest.mark.parametrize("family", families(), ids=repr)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip_with_extreme_parameters(family, data):
    count = data.draw(st.integers(0, 60))
    mean = np.array(data.draw(st.lists(extreme_means, min_size=count, max_size=count)))
    std = np.array(data.draw(st.lists(extreme_stds, min_size=count, max_size=count)))
    x = np.array(data.draw(st.lists(st.integers(0, family.n - 1), min_size=count, max_size=count)), dtype=np.int64)
    msg = Message()
    family.push(msg, x, mean=mean, std=std)
    dec = Message.from_bytes(msg.to_bytes())
    assert family.pop(dec, mean=mean, std=std).tolist() == x.tolist()
    dec.finish(0)


@pytest.mark.parametrize("family", families(), ids=repr)
@settings(max_examples=30, deadline=None)
@given(mean=extreme_means, std=extreme_stds)
def test_every_symbol_has_frequency_and_they_sum_exactly(family, mean, std):
    x = np.arange(family.n)
    starts, freqs = family.interval(x, mean=mean, std=std)
    assert freqs.min() >= 1
    assert starts[0] == 0 and np.array_equal(starts[1:], np.cumsum(freqs)[:-1])
    assert starts[-1] + freqs[-1] == 1 << family.precision


@pytest.mark.parametrize("family", [DiscretizedGaussian(5, 4), GaussianLatent(3, 5), DiscretizedGaussian(17, 9)], ids=repr)
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (2.2, 0.01), (-30.0, 5.0), (1e6, 1e9), (3.0, 1e-9)])
def test_pop_finds_the_symbol_for_every_cf(family, mean, std):
    """Exhaustive at small precision: whatever cf the state shows, pop picks the symbol whose interval holds it."""
    starts, freqs = family.interval(np.arange(family.n), mean=mean, std=std)
    for cf in range(1 << family.precision):
        msg = Message()
        msg.state = np.uint64((1 << 40) | cf)
        x = int(family.pop(msg, mean=[mean], std=[std])[0])
        assert starts[x] <= cf < starts[x] + freqs[x]


@pytest.mark.parametrize("family", families(), ids=repr)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), words=st.integers(1, 30))
def test_surjectivity(family, seed, words):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 2**32, words + 2, dtype=np.uint64).astype(np.uint32)
    data[-1] |= 1
    msg = Message.from_words(data)
    msg.strict = False
    mean, std = rng.normal(0, 3, 80), np.exp(rng.uniform(-5, 2, 80))
    x = family.pop(msg, mean=mean, std=std)
    family.push(msg, x, mean=mean, std=std)
    assert msg.to_words().tolist() == [0x9E3779B9] * msg.fillers + data.tolist()


def test_rates_discretized_gaussian():
    """10**6 symbols: coded bits <= quantized information * 1.001 + 64, and the quantized
    information is within 0.5 % of the float model's."""
    rng = np.random.default_rng(0)
    family = DiscretizedGaussian(201, 16)
    n = 10**6
    mean = rng.normal(100, 20, n)
    std = rng.uniform(1, 10, n)
    x = np.clip(np.round(mean + std * rng.normal(size=n)), 0, 200).astype(np.int64)
    msg = Message()
    family.push(msg, x, mean=mean, std=std)
    info = family.information_bits(x, mean=mean, std=std)
    assert info <= msg.num_bits() <= info * 1.001 + 64
    lower = np.where(x == 0, -np.inf, x - 0.5)
    upper = np.where(x == 200, np.inf, x + 0.5)
    float_info = -np.log2(norm.cdf(upper, mean, std) - norm.cdf(lower, mean, std)).sum()
    assert abs(info - float_info) <= 0.005 * float_info


def test_rates_gaussian_latent_posterior():
    rng = np.random.default_rng(1)
    family = GaussianLatent(8, 16)
    n = 10**6
    mean = rng.normal(0, 1, n)
    std = np.exp(rng.uniform(-3, 0, n))
    z = np.clip(mean + std * rng.normal(size=n), -8, 8)
    x = np.searchsorted(family.edges[1:], z, side="right")
    msg = Message()
    family.push(msg, x, mean=mean, std=std)
    info = family.information_bits(x, mean=mean, std=std)
    assert info <= msg.num_bits() <= info * 1.001 + 64
    edges = np.concatenate([family.edges, [np.inf]])
    p = norm.cdf(edges[x + 1], mean, std) - norm.cdf(edges[x], mean, std)
    float_info = -np.log2(p).sum()
    assert abs(info - float_info) <= 0.005 * float_info


@pytest.mark.parametrize("bits", [1, 4, 8, 12])
def test_latent_grid_is_equal_mass(bits):
    edges, centres = latent_grid(bits)
    n = 1 << bits
    assert edges.shape == (n,) and centres.shape == (n,) and edges[0] == -np.inf
    assert np.allclose(norm.cdf(edges[1:]), np.arange(1, n) / n, atol=1e-13)
    assert np.allclose(norm.cdf(centres), (np.arange(n) + 0.5) / n, atol=1e-13)
    assert np.all(np.diff(edges) > 0) and np.all(edges[1:] > centres[:-1]) and np.all(edges[1:] < centres[1:])
    assert not edges.flags.writeable


@pytest.mark.parametrize(
    "bits, digest",
    [
        (4, "4f8dc8f3dd3c256bd723de3d432b01eb299f27944184305f89a56175c6da4f5a"),
        (8, "2e4172b46a4a3bf76ef73b76818b2e0c1935389d325050455b49d00f24bb6882"),
        (12, "5bb10706996e08b98a540b30e293a05d4b4f87aa5bdc671dfbe6f09e18d87607"),
    ],
)
def test_latent_grid_pinned(bits, digest):
    """Edges and centres feed the coder and the decoder network: they must never change."""
    edges, centres = latent_grid(bits)
    assert hashlib.sha256(edges.tobytes() + centres.tobytes()).hexdigest() == digest


def test_prior_codes_exactly_latent_bits():
    family = GaussianLatent(7, 16)
    z = np.random.default_rng(2).integers(0, 128, 10_000)
    msg = Message()
    family.push_prior(msg, z)
    assert msg.num_bits() <= 7 * 10_000 + 64
    dec = Message.from_bytes(msg.to_bytes())
    assert family.pop_prior(dec, z.shape).tolist() == z.tolist()
    dec.finish(0)


def test_median_bucket_holds_the_mean():
    family = GaussianLatent(6, 12)
    means = np.array([-1e9, -3.0, -0.01, 0.0, 0.01, 2.5, 1e9])
    idx = family.median(means)
    edges = np.concatenate([family.edges, [np.inf]])
    assert np.all(edges[idx] <= means) and np.all(means < edges[idx + 1])


def test_shapes_are_kept():
    family = DiscretizedGaussian(11, 8)
    x = np.arange(24).reshape(2, 3, 4) % 11
    msg = Message()
    family.push(msg, x, mean=5.0, std=np.full((3, 4), 2.0))
    out = family.pop(Message.from_bytes(msg.to_bytes()), mean=np.full((2, 3, 4), 5.0), std=2.0)
    assert out.shape == (2, 3, 4) and np.array_equal(out, x)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: DiscretizedGaussian(1), "n must be"),
        (lambda: DiscretizedGaussian(300, 8), "precision 8 is too small"),
        (lambda: GaussianLatent(0), "latent_bits"),
        (lambda: GaussianLatent(8, 8), "too small"),
        (lambda: DiscretizedGaussian(5, 4).push(Message(), [5], mean=0.0, std=1.0), r"\[0, 5\)"),
        (lambda: DiscretizedGaussian(5, 4).push(Message(), [1], mean=np.nan, std=1.0), "finite"),
        (lambda: DiscretizedGaussian(5, 4).push(Message(), [1], mean=0.0, std=-1.0), "positive"),
        (lambda: DiscretizedGaussian(5, 4).push(Message(), [1, 2], mean=[0.0, 1.0, 2.0], std=1.0), "broadcast"),
        (lambda: DiscretizedGaussian(5, 4).push(Message(), [1.5], mean=0.0, std=1.0), "integers"),
    ],
)
def test_invalid_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
