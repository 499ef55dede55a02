"""Uniform(n): exact integer intervals, round trips, inverse, surjectivity, rate, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_inverse, check_rate, check_surjective, check_table, roundtrip
from vaezip.codecs import Uniform
from vaezip.rans import Message

SETTINGS = settings(max_examples=60, deadline=None)


def reference_cdf(k: int, n: int, precision: int) -> int:
    return k * 2**precision // n


@st.composite
def n_and_precision(draw, max_n=1 << 24):
    n = draw(st.one_of(st.sampled_from([1, 2, 3, 5, 255, 256, 1000, (1 << 23) + 1, 3 << 22, 1 << 24]),
                       st.integers(1, max_n)))
    n = min(n, max_n)
    low = max(1, (n - 1).bit_length())
    precision = draw(st.one_of(st.none(), st.integers(low, 24)))
    return n, precision


@SETTINGS
@given(n_and_precision(), st.integers(0, 60), st.integers(0, 2**32 - 1))
def test_roundtrip(n_p, size, seed):
    n, precision = n_p
    family = Uniform(n, precision)
    x = np.random.default_rng(seed).integers(0, n, size)
    roundtrip(family.push, lambda m: family.pop(m, x.shape), x)


def test_roundtrip_shapes_and_binding():
    family = Uniform(10)
    x = np.arange(24).reshape(2, 3, 4) % 10
    roundtrip(family.push, lambda m: family.pop(m, (2, 3, 4)), x)
    codec = family(shape=(2, 3, 4))
    roundtrip(codec.push, codec.pop, x)
    roundtrip(family.push, lambda m: family.pop(m, ()), np.int64(7))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 100, 255, 256, 257, 1023])
def test_table_exhaustive(n):
    for precision in range(max(1, (n - 1).bit_length()), 12):
        family = Uniform(n, precision)
        starts, freqs = family.interval(np.arange(n))
        check_table(starts, freqs, precision)
        expected = [reference_cdf(k, n, precision) for k in range(n + 1)]
        np.testing.assert_array_equal(starts, expected[:-1])
        np.testing.assert_array_equal(freqs, np.diff(expected))


@pytest.mark.parametrize("n", [(1 << 23) + 1, 3 << 22, (1 << 24) - 1, 1 << 24])
def test_table_exhaustive_large_n(n):
    starts, freqs = Uniform(n).interval(np.arange(n))
    check_table(starts, freqs, 24)


@pytest.mark.parametrize("bits", [1, 2, 8, 13, 24])
def test_power_of_two_is_exact(bits):
    n = 1 << bits
    for precision in range(bits, 25, 5):
        family = Uniform(n, precision)
        x = np.random.default_rng(bits).integers(0, n, 1000)
        assert family.information_bits(x) == 1000 * bits
    assert Uniform(n).precision == bits


@pytest.mark.parametrize("n,precision", [(2, 1), (3, 2), (5, 3), (6, 4), (8, 3), (11, 6), (200, 8), (3, 10)])
def test_inverse_exhaustive(n, precision):
    family = Uniform(n, precision)
    check_inverse(lambda m: family.pop(m, (1,)), lambda x: family.interval([x]), precision)


@SETTINGS
@given(n_and_precision(), st.integers(0, 2**32 - 1))
def test_surjective(n_p, seed):
    n, precision = n_p
    family = Uniform(n, precision)
    check_surjective(lambda m: family.pop(m, (50,)), family.push, 50, seed)


def test_one_symbol_touches_nothing():
    family = Uniform(1)
    msg = Message()
    family.push(msg, np.zeros(10, dtype=int))
    assert msg.length == 0 and int(msg.state) == 1 << 32
    np.testing.assert_array_equal(family.pop(msg, (10,)), np.zeros(10))
    assert family.information_bits(np.zeros(10, dtype=int)) == 0.0


def test_information_bits_is_freq_sum():
    family = Uniform(1000)
    x = np.random.default_rng(0).integers(0, 1000, 500)
    _, freqs = family.interval(x)
    assert family.information_bits(x) == pytest.approx(np.sum(24 - np.log2(freqs)), rel=1e-12)


def test_quantization_loss_bound():
    # the docstring's bound: at most 0.086 bits per symbol on average over the support, < 0.18 / q**2
    for n in [3, 1000, 123457, 3 << 22, (1 << 23) + 1]:
        _, freqs = Uniform(n).interval(np.arange(n))
        loss = 24 - np.mean(np.log2(freqs)) - math.log2(n)
        q = (1 << 24) // n
        assert 0 <= loss <= min(0.086, 0.18 / q**2), (n, loss)


def test_rate():
    n = 1000
    family = Uniform(n)
    x = np.random.default_rng(1).integers(0, n, 10**6)
    check_rate(family.push, x, family.information_bits(x), x.size * math.log2(n))


@pytest.mark.parametrize("n", [0, -1, (1 << 24) + 1, 2.5, "3"])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        Uniform(n)


def test_bad_precision():
    with pytest.raises(ValueError, match="too small"):
        Uniform(5, 2)
    with pytest.raises(ValueError, match="precision"):
        Uniform(5, 25)
    with pytest.raises(ValueError, match="precision"):
        Uniform(2, 0)


def test_bad_symbols_and_shape():
    family = Uniform(10)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        family.push(Message(), [3, 10])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        family.push(Message(), [-1])
    with pytest.raises(ValueError, match="integers"):
        family.push(Message(), [1.5])
    with pytest.raises(ValueError, match="shape"):
        family.pop(Message(), (-1, 2))
    with pytest.raises(ValueError, match="shape"):
        family.pop(Message(), "ab")


# -- UniformBelow: a range per symbol --------------------------------------------------------
from vaezip.codecs import UniformBelow  # noqa: E402


@given(st.lists(st.integers(1, 1 << 20), min_size=1, max_size=200), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_uniform_below_round_trip(ranges, seed):
    n = np.array(ranges, dtype=np.int64)
    x = np.random.default_rng(seed).integers(0, n)
    msg = Message()
    UniformBelow().push(msg, x, n=n)
    dec = Message.from_bytes(msg.to_bytes())
    assert np.array_equal(UniformBelow().pop(dec, n=n), x)


def test_uniform_below_costs_log2_n():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 1 << 20, 100_000)
    x = rng.integers(0, n)
    msg = Message()
    UniformBelow().push(msg, x, n=n)
    information = float(np.sum(np.log2(n)))
    assert information <= msg.num_bits() <= information * 1.0002 + 64
    starts, freqs = UniformBelow().interval(x, n=n)
    assert np.all(freqs >= 1) and np.all(starts + freqs <= 1 << 24)


def test_uniform_below_checks_its_arguments():
    with pytest.raises(ValueError, match="range"):
        UniformBelow().push(Message(), np.array([3]), n=np.array([3]))
    with pytest.raises(ValueError, match="range"):
        UniformBelow().pop(Message(), n=np.array([0]))
    with pytest.raises(ValueError, match="range"):
        UniformBelow(precision=8).pop(Message(), n=np.array([257]))
