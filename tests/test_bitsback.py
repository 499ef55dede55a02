"""Bits-back coding with a tiny seeded model: round trips, the first-image rule,
and the net rate against the quantized −ELBO."""

from __future__ import annotations

import numpy as np
import pytest

from toy_models import ToyLogisticVAE, quantized_net_bits
from vaezip.codecs.bitsback import (
    LatentModel,
    batch_schedule,
    pop_batch,
    pop_stream,
    push_batch,
    push_stream,
)
from vaezip.codecs.gaussian import GaussianLatent
from vaezip.rans import FormatError, Message


def test_toy_model_satisfies_the_protocol():
    assert isinstance(ToyLogisticVAE(), LatentModel)


@pytest.mark.parametrize("count, batch_size", [(1, 4), (2, 1), (7, 3), (40, 16)])
def test_stream_round_trip(count, batch_size):
    model, latent = ToyLogisticVAE(), GaussianLatent(8, 16)
    images = model.sample(count)
    msg = Message()
    push_stream(msg, images, model, latent, batch_size)
    dec = Message.from_bytes(msg.to_bytes())
    out = pop_stream(dec, count, model, latent, batch_size)
    assert out.dtype.kind in "iu" and np.array_equal(out, images)
    dec.finish(msg.fillers)


def test_net_rate_is_the_quantized_negative_elbo():
    """Coded bits = sum over images of -log q(x|z) - log q(z) + log p(z|x) (quantized),
    within 0.1 % + 64 bits of flush, plus any filler words borrowed."""
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(200, seed=3)
    msg = Message()
    expected = 0.0
    for i, (start, stop) in enumerate(batch_schedule(len(images), 32)):
        push_batch(msg, images[start:stop], model, latent, first=i == 0)
        # the batch's latents are the last thing pushed: read them back from a copy
        z = latent.pop_prior(msg.copy(), (stop - start, model.latent_dim))
        for j in range(stop - start):
            expected += quantized_net_bits(model, latent, images[start + j], z[j], first=i == 0)
    coded = msg.num_bits() - 32 * msg.fillers
    assert expected <= coded + 64
    assert coded <= expected * 1.001 + 64


def test_first_image_costs_its_full_code_length_and_later_ones_get_bits_back():
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(8, 16)
    images = model.sample(30, seed=5)
    one = Message()
    push_stream(one, images[:1], model, latent, 8)
    many = Message()
    push_stream(many, images, model, latent, 8)
    per_image_later = (many.num_bits() - one.num_bits()) / 29
    assert per_image_later < one.num_bits() - 64  # bits back make later images cheaper
    assert many.fillers == 0  # the doubling schedule leaves enough clean bits here


def test_decoder_checks_the_first_image_rule():
    model, latent = ToyLogisticVAE(), GaussianLatent(8, 16)
    images = model.sample(1)
    msg = Message()
    push_batch(msg, images, model, latent, first=True)
    other = ToyLogisticVAE(seed=9)  # a different model decodes something else, or trips the check
    dec = Message.from_bytes(msg.to_bytes())
    try:
        out = pop_batch(dec, 1, other, latent, first=True)
    except FormatError as err:
        assert "median" in str(err) or "ended early" in str(err)
    else:
        assert not np.array_equal(out, images)


def test_first_batch_must_be_one_image():
    model, latent = ToyLogisticVAE(), GaussianLatent(8, 16)
    with pytest.raises(ValueError, match="exactly one image"):
        push_batch(Message(), model.sample(2), model, latent, first=True)


def test_schedule():
    assert batch_schedule(0, 4) == []
    assert batch_schedule(1, 4) == [(0, 1)]
    assert batch_schedule(20, 8) == [(0, 1), (1, 2), (2, 4), (4, 8), (8, 16), (16, 20)]
    assert batch_schedule(4, 1) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(ValueError):
        batch_schedule(3, 0)
