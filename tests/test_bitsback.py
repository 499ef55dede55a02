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
    sizes = [b - a for a, b in batch_schedule(400, 64)]
    assert sizes[:8] == [1] * 8 and max(sizes) == 64 and sum(sizes) == 400
    done = 0
    for size in sizes:
        assert size == 1 or size <= done // 4
        done += size
    assert batch_schedule(4, 1) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(ValueError):
        batch_schedule(3, 0)


# -- BB-IS ---------------------------------------------------------------------------------
from vaezip.codecs.bitsback import log_weights, pop_batch_is, push_batch_is  # noqa: E402


@pytest.mark.parametrize("particles", [1, 2, 7, 64])
def test_importance_sampled_stream_round_trip(particles):
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(24, seed=2)
    msg = Message()
    push_stream(msg, images, model, latent, 8, particles=particles)
    dec = Message.from_bytes(msg.to_bytes())
    assert np.array_equal(pop_stream(dec, len(images), model, latent, 8, particles=particles), images)
    dec.finish(msg.fillers)


def clean_bits(words=20_000, seed=0):
    """A compression message already holding plenty of clean bits (no fillers needed)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 2**32, words, dtype=np.uint64).astype(np.uint32)
    data[-1] |= 1
    msg = Message.from_words(data)
    msg.strict = False
    return msg


def test_one_particle_is_exactly_plain_bits_back():
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(9, seed=4)
    plain, single = clean_bits(), clean_bits()
    push_batch(plain, images, model, latent)
    push_batch_is(single, images, model, latent, 1)
    assert np.array_equal(plain.to_words(), single.to_words())


def estimate_bits(images, z, mean, std, model, latent) -> float:
    """Sum over the images of -log2((1/K) sum_k w_k) for particles ``z`` (B, K, D)."""
    log_w = log_weights(images, z, mean, std, model, latent) / np.log(2.0)
    top = log_w.max(axis=1)
    return float(np.sum(np.log2(z.shape[1]) - top - np.log2(np.exp2(log_w - top[:, None]).sum(axis=1))))


@pytest.mark.parametrize("particles", [2, 16])
def test_net_rate_is_the_importance_sampled_estimate(particles):
    """Net bits of a batch = sum_i -log2((1/K) sum_k w_ik) from the same quantized
    probabilities, up to the quantization of the index distribution (<= 0.05 bits per image
    here) and the coder's 32-bit renormalization granularity (a few words)."""
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(40, seed=6)
    msg = clean_bits()
    before = msg.num_bits()
    mean, std = model.encode(images)
    # the weights of the particles the coder draws are known only after coding: replay them
    snapshot = msg.copy()
    shape = (len(images), particles, model.latent_dim)
    z = latent.pop(snapshot, mean=np.broadcast_to(mean[:, None], shape), std=np.broadcast_to(std[:, None], shape))
    expected = estimate_bits(images, z, mean, std, model, latent)
    push_batch_is(msg, images, model, latent, particles)
    net = msg.num_bits() - before
    assert msg.fillers == 0
    assert abs(net - expected) <= 0.05 * len(images) + 4 * 32


def test_more_particles_cost_fewer_bits():
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(60, seed=8)
    costs = {}
    for particles in (1, 8):
        msg = clean_bits()
        before = msg.num_bits()
        push_batch_is(msg, images, model, latent, particles)
        costs[particles] = msg.num_bits() - before
    assert costs[8] < costs[1]


# -- BB-CIS ----------------------------------------------------------------------------------
from vaezip.codecs.bitsback import (  # noqa: E402
    coupled_offsets, coupled_particles, push_batch_cis, ramp,
)


@pytest.mark.parametrize("particles", [1, 2, 7, 64])
def test_coupled_stream_round_trip(particles):
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(40, seed=3)
    msg = Message()
    push_stream(msg, images, model, latent, 8, particles=particles, coupled=True)
    dec = Message.from_bytes(msg.to_bytes())
    dec.strict = True
    assert np.array_equal(pop_stream(dec, len(images), model, latent, 8, particles=particles, coupled=True), images)
    dec.finish(msg.fillers)


def test_one_coupled_particle_is_exactly_plain_bits_back():
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(30, seed=5)
    plain, coupled = Message(), Message()
    push_stream(plain, images, model, latent, 8)
    push_stream(coupled, images, model, latent, 8, particles=1, coupled=True)
    assert np.array_equal(plain.to_words(), coupled.to_words())


def test_each_coupled_particle_is_a_draw_from_the_quantized_posterior():
    """Over every shared draw u, particle k's bucket frequencies are the posterior's."""
    latent = GaussianLatent(4, 10)  # 16 buckets, 1024 values of u: enumerate them all
    mean, std = np.array([[0.3]]), np.array([[0.7]])
    u = np.arange(1 << 10).reshape(-1, 1)
    z, starts, freqs, cf = coupled_particles(u, np.repeat(mean, len(u), 0), np.repeat(std, len(u), 0), latent, 5)
    _, expected = latent.interval(np.arange(16)[None], mean=mean, std=std)
    for k in range(5):
        assert np.array_equal(np.bincount(z[:, k, 0], minlength=16), expected[0])
    assert np.all((starts <= cf) & (cf < starts + freqs))
    assert len({tuple(row) for row in z[:, :, 0]}) > 16  # the particles differ from one another


@pytest.mark.parametrize("particles", [2, 16, 64])
def test_coupled_net_rate_is_the_importance_sampled_estimate(particles):
    """Net bits of a BB-CIS batch = sum_i -log2((1/K) sum_k w_ik) of the coupled particles,
    up to the index quantization (<= 0.05 bits per image here), the uniform coding of the
    offset at precision 24 (< 0.01 bits per image) and the 32-bit renormalization."""
    from vaezip.codecs import Uniform

    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(40, seed=6)
    msg = clean_bits()
    before = msg.num_bits()
    mean, std = model.encode(images)
    u = Uniform(1 << latent.precision).pop(msg.copy(), (len(images), model.latent_dim))  # replay the draw
    z = coupled_particles(u, mean, std, latent, particles)[0]
    expected = estimate_bits(images, z, mean, std, model, latent)
    push_batch_cis(msg, images, model, latent, particles)
    net = msg.num_bits() - before
    assert msg.fillers == 0
    assert abs(net - expected) <= 0.06 * len(images) + 4 * 32


def test_coupled_particles_need_fewer_clean_bits_than_independent_ones():
    model, latent = ToyLogisticVAE(side=8, latent_dim=6), GaussianLatent(10, 20)
    images = model.sample(8, seed=9)
    need = {}
    for coupled, push in ((False, push_batch_is), (True, push_batch_cis)):
        msg = Message()  # empty: every word the batch pops is a filler
        push(msg, images, model, latent, 32)
        need[coupled] = msg.fillers
    assert need[True] * 4 < need[False]


@pytest.mark.parametrize("particles", [1, 2, 7, 64, 100])
def test_coupled_offsets_stratify_every_dimension_with_its_own_order(particles):
    offsets = coupled_offsets(particles, 32, 20)
    grid = (np.arange(particles) << 20) // particles
    for d in range(32):
        assert np.array_equal(np.sort(offsets[:, d]), grid)
    if particles > 2:  # not every dimension shifted alike (that puts the particles on one line)
        assert len({tuple(np.argsort(offsets[:, d])) for d in range(32)}) > 8
    assert np.array_equal(coupled_offsets(particles, 32, 20), offsets)


def test_ramp_by_estimator():
    assert ramp(1) == ramp(1, coupled=True) == 4
    assert ramp(16, coupled=True) == 8 and ramp(16) == 64
    sizes = [b - a for a, b in batch_schedule(500, 64, 8)]
    done = 0
    for size in sizes:
        assert size == 1 or size <= done // 8
        done += size
