"""serial / repeat / batch round trips, and Codec binding with family(**params)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _codec_checks import check_surjective, roundtrip
from vaezip.codecs import Bernoulli, BetaBinomial, Categorical, Codec, DiscretizedLogistic, Uniform, batch, repeat, serial
from vaezip.rans import Message


def test_binding_makes_a_codec():
    codec = Bernoulli(12)(p=[0.2, 0.9])
    assert isinstance(codec, Codec)
    roundtrip(codec.push, codec.pop, np.array([1, 0]))


def test_serial_pops_in_order():
    u = Uniform(7)(shape=(3,))
    b = Bernoulli(16)(p=np.array([0.1, 0.5]))
    c = Categorical(10)(probs=np.array([[0.2, 0.3, 0.5]]))
    codec = serial(u, b, c)
    items = (np.array([6, 0, 3]), np.array([1, 1]), np.array([2]))
    msg = Message()
    codec.push(msg, items)
    out = codec.pop(msg)
    assert isinstance(out, tuple) and len(out) == 3
    for got, want in zip(out, items):
        np.testing.assert_array_equal(got, want)
    msg.finish(0)


def test_serial_wrong_length():
    with pytest.raises(ValueError, match="expects 2 items"):
        serial(Uniform(2)(shape=()), Uniform(2)(shape=()))[0](Message(), (0,))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_repeat_and_batch_roundtrip(count, seed):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-10, 270, count)
    pixel = lambda i: DiscretizedLogistic(8, 14)(mean=means[i], scale=3.0)  # noqa: E731
    items = [np.int64(v) for v in rng.integers(0, 256, count)]
    roundtrip(batch(pixel, count).push, batch(pixel, count).pop, items)
    same = repeat(BetaBinomial(12)(a=2.0, b=5.0), count)
    items = [np.int64(v) for v in rng.integers(0, 256, count)]
    roundtrip(same.push, same.pop, items)


def test_nested_composition_surjective():
    inner = serial(Uniform(5)(shape=(4,)), Bernoulli(8)(p=np.full(3, 0.3)))
    codec = repeat(inner, 3)
    check_surjective(codec.pop, codec.push, 3 * 7)
