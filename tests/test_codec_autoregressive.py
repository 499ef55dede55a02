"""The causal-head likelihood codecs: they code exactly what the model's head
(and its plain-loop reference) describes, pixel by pixel, both ways."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaezip.codecs.autoregressive import AutoregressiveBernoulli, AutoregressiveMixture
from vaezip.codecs.bernoulli import Bernoulli
from vaezip.codecs.detmath import SNAP_BITS
from vaezip.codecs.logistic import LogisticMixture
from vaezip.rans import FormatError, Message
from vaezip.models.head import export_head, head_params_reference
from vaezip.models.vae import build_model

SHAPE = dict(height=8, width=12, channels=8, head_hidden=16, latent_dim=4)


def exported(arch, seed=0, **overrides):
    torch.manual_seed(seed)
    model = build_model(arch, **{**SHAPE, **overrides}).double().eval()
    return export_head(model)


def features(batch, channels=16, seed=0, spread=1.0):
    return np.random.default_rng(seed).normal(0, spread, (batch, channels, SHAPE["height"], SHAPE["width"]))


def snapped(v):
    return np.round(v * 2.0**SNAP_BITS) / 2.0**SNAP_BITS


@pytest.mark.parametrize("head_layers", [0, 1, 2])
def test_mixture_round_trip_and_agreement_with_the_reference_head(head_layers):
    weights = exported("logistic-ar", head_layers=head_layers)
    family = AutoregressiveMixture(weights, mixtures=5, precision=16)
    feats = features(3)
    x = np.random.default_rng(1).integers(0, 256, (3, SHAPE["height"], SHAPE["width"]))
    msg = Message()
    family.push(msg, x, features=feats)
    dec = Message.from_bytes(msg.to_bytes())
    assert np.array_equal(family.pop(dec, features=feats), x)
    dec.finish(0)
    # the same intervals as the reference head's parameters through LogisticMixture
    params = head_params_reference(feats, x, weights).transpose(0, 2, 3, 1)
    k, half = 5, 127.5
    scales = np.exp(snapped(np.clip(params[..., 2 * k :], -7, 3))) * half
    starts, freqs = family.interval(x, features=feats)
    ref_starts, ref_freqs = LogisticMixture(8, 16).interval(
        x, logits=params[..., :k], means=(params[..., k : 2 * k] + 1) * half, scales=scales
    )
    assert np.mean(starts == ref_starts) > 0.999 and np.mean(freqs == ref_freqs) > 0.999
    info = family.information_bits(x, features=feats)
    assert info <= msg.num_bits() <= info * 1.001 + 64


def test_bernoulli_round_trip_and_agreement_with_the_reference_head():
    weights = exported("bernoulli-ar")
    family = AutoregressiveBernoulli(weights, precision=14)
    feats = features(4, spread=2.0)
    x = np.random.default_rng(2).integers(0, 2, (4, SHAPE["height"], SHAPE["width"]))
    msg = Message()
    family.push(msg, x, features=feats)
    dec = Message.from_bytes(msg.to_bytes())
    assert np.array_equal(family.pop(dec, features=feats), x)
    dec.finish(0)
    logits = head_params_reference(feats, x, weights)[:, 0]
    starts, freqs = family.interval(x, features=feats)
    ref_starts, ref_freqs = Bernoulli(14).interval(x, logit=logits)
    assert np.mean(starts == ref_starts) > 0.999 and np.mean(freqs == ref_freqs) > 0.999


def test_pixels_are_popped_in_raster_order_one_image_after_another():
    """A pop of one batch equals pops of its images one by one (the stream is image-major)."""
    weights = exported("logistic-ar")
    family = AutoregressiveMixture(weights, mixtures=5)
    feats = features(2)
    x = np.random.default_rng(3).integers(0, 256, (2, SHAPE["height"], SHAPE["width"]))
    msg = Message()
    family.push(msg, x, features=feats)
    dec = Message.from_bytes(msg.to_bytes())
    first = family.pop(dec, features=feats[:1])
    second = family.pop(dec, features=feats[1:])
    assert np.array_equal(np.concatenate([first, second]), x)


def test_corrupt_data_is_an_error_not_a_hang():
    weights = exported("logistic-ar")
    family = AutoregressiveMixture(weights, mixtures=5)
    feats = features(2)
    x = np.random.default_rng(4).integers(0, 256, (2, SHAPE["height"], SHAPE["width"]))
    msg = Message()
    family.push(msg, x, features=feats)
    words = msg.to_words()
    dec = Message.from_words(words[len(words) // 2 :])  # lose the bottom half
    with pytest.raises(FormatError):
        family.pop(dec, features=feats)
        dec.finish(0)


def test_invalid_heads_and_features():
    weights = exported("logistic-ar")
    bad = dict(weights, offsets=np.array([[0.0, 1.0]] + [[-1.0, 0.0]] * 11))
    with pytest.raises(ValueError, match="before the current one"):
        AutoregressiveMixture(bad, mixtures=5)
    with pytest.raises(ValueError, match="expected"):
        AutoregressiveMixture(weights, mixtures=4)
    with pytest.raises(ValueError, match="n_values = 2"):
        AutoregressiveBernoulli(weights)
    family = AutoregressiveMixture(weights, mixtures=5)
    with pytest.raises(ValueError, match="features must have shape"):
        family.push(Message(), np.zeros((1, 8, 12), dtype=int), features=np.zeros((1, 3, 8, 12)))
    with pytest.raises(ValueError, match="do not match"):
        family.push(Message(), np.zeros((2, 8, 12), dtype=int), features=features(1))
    with pytest.raises(ValueError, match="finite"):
        family.pop(Message(), features=np.full((1, 16, 8, 12), np.nan))
