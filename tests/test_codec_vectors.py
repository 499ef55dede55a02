"""Pinned compressed words: any change to what a codec writes fails here.

Each case in ``tests/vectors/codecs/v1.json`` stores its family, inputs and
the exact words ``Message.to_words()`` gave when it was generated. A change
to encoder output is a breaking change (it makes old files undecodable):
regenerate only on purpose, with ``GENERATE_EXPECTED=1``, and say so in
CHANGELOG.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from vaezip.codecs import (
    Bernoulli,
    BetaBinomial,
    Categorical,
    DiscretizedLogistic,
    LogisticMixture,
    Uniform,
)
from vaezip.codecs.autoregressive import AutoregressiveBernoulli, AutoregressiveMixture
from vaezip.codecs.gaussian import DiscretizedGaussian, GaussianLatent
from vaezip.rans import Message
from vaezip.rans.reference import ReferenceMessage

VECTORS = Path(__file__).parent / "vectors" / "codecs" / "v1.json"


def _inputs():
    """The cases' inputs. Only used to (re)generate the vector file, which stores them."""
    rng = np.random.default_rng(20261125)
    n = 40

    def r(*shape, lo=0.0, hi=1.0):
        return np.round(rng.uniform(lo, hi, shape), 6).tolist()

    head = {
        "conv_w": r(12, 3, lo=-1, hi=1),
        "offsets": [[dy, dx] for dy in (-2, -1) for dx in range(-2, 3)] + [[0, -2], [0, -1]],
        "layer_w": r(1, 3, 3, lo=-1, hi=1),
        "layer_b": r(1, 3, lo=-0.5, hi=0.5),
    }
    return _family_inputs(rng, r, n) + _head_inputs(rng, r, head)  # drawn in this order


def _family_inputs(rng, r, n):
    return [
        ("uniform-10", "Uniform", {"n": 10}, rng.integers(0, 10, n).tolist(), {}),
        ("uniform-256", "Uniform", {"n": 256}, rng.integers(0, 256, n).tolist(), {}),
        ("bernoulli-p", "Bernoulli", {"precision": 12}, rng.integers(0, 2, n).tolist(), {"p": r(n)}),
        ("bernoulli-logit", "Bernoulli", {"precision": 16}, rng.integers(0, 2, n).tolist(),
         {"logit": r(n, lo=-8, hi=8)}),
        ("categorical", "Categorical", {"precision": 14}, rng.integers(0, 6, n).tolist(), {"probs": r(n, 6)}),
        ("categorical-logits", "Categorical", {"precision": 14}, rng.integers(0, 6, n).tolist(),
         {"logits": r(n, 6, lo=-5, hi=5)}),
        ("betabinomial", "BetaBinomial", {"precision": 16}, rng.integers(0, 256, n).tolist(),
         {"a": r(n, lo=0.1, hi=20), "b": r(n, lo=0.1, hi=20)}),
        ("logistic", "DiscretizedLogistic", {"bit_depth": 8, "precision": 16}, rng.integers(0, 256, n).tolist(),
         {"mean": r(n, lo=-20, hi=280), "scale": r(n, lo=0.1, hi=40)}),
        ("logistic-16bit", "DiscretizedLogistic", {"bit_depth": 16, "precision": 24},
         rng.integers(0, 65536, n).tolist(), {"mean": r(n, lo=0, hi=65535), "scale": r(n, lo=1, hi=3000)}),
        ("mixture", "LogisticMixture", {"bit_depth": 8, "precision": 16}, rng.integers(0, 256, n).tolist(),
         {"logits": r(n, 3, lo=-3, hi=3), "means": r(n, 3, lo=0, hi=255), "scales": r(n, 3, lo=0.2, hi=30)}),
        ("gaussian", "DiscretizedGaussian", {"n": 201, "precision": 16}, rng.integers(0, 201, n).tolist(),
         {"mean": r(n, lo=-10, hi=210), "std": r(n, lo=0.2, hi=20)}),
        ("latent", "GaussianLatent", {"latent_bits": 8, "precision": 16}, rng.integers(0, 256, n).tolist(),
         {"mean": r(n, lo=-3, hi=3), "std": r(n, lo=0.01, hi=1.5)}),
        ("latent-prior", "GaussianLatentPrior", {"latent_bits": 6, "precision": 12},
         rng.integers(0, 64, n).tolist(), {}),
    ]


def _head_inputs(rng, r, head):
    return [
        ("ar-mixture", "AutoregressiveMixture", {"mixtures": 2, "precision": 16},
         rng.integers(0, 256, (2, 4, 5)).tolist(),
         {"features": r(2, 3, 4, 5, lo=-1, hi=1),
          "weights": {**head, "out_w": r(6, 3, lo=-1, hi=1), "out_b": r(6, lo=-0.5, hi=0.5), "n_values": [256]}}),
        ("ar-bernoulli", "AutoregressiveBernoulli", {"precision": 14},
         rng.integers(0, 2, (2, 4, 5)).tolist(),
         {"features": r(2, 3, 4, 5, lo=-1, hi=1),
          "weights": {**head, "out_w": r(1, 3, lo=-1, hi=1), "out_b": r(1, lo=-0.5, hi=0.5), "n_values": [2]}}),
    ]


def _codec(family, settings, params):
    """``(push, pop, intervals, precision)`` for one case."""
    params = {k: (np.asarray(v) if k != "weights" else v) for k, v in params.items()}
    if family == "GaussianLatentPrior":
        f = GaussianLatent(**settings)
        return f.push_prior, lambda msg, shape: f.pop_prior(msg, shape), None, f.latent_bits
    if family.startswith("Autoregressive"):
        weights = {k: np.asarray(v, dtype=np.float64) for k, v in params.pop("weights").items()}
        f = {"AutoregressiveMixture": AutoregressiveMixture, "AutoregressiveBernoulli": AutoregressiveBernoulli}[family](
            weights, **settings
        )
    else:
        f = {
            "Uniform": Uniform, "Bernoulli": Bernoulli, "Categorical": Categorical, "BetaBinomial": BetaBinomial,
            "DiscretizedLogistic": DiscretizedLogistic, "LogisticMixture": LogisticMixture,
            "DiscretizedGaussian": DiscretizedGaussian, "GaussianLatent": GaussianLatent,
        }[family](**settings)
    if family == "Uniform":
        return f.push, lambda msg, shape: f.pop(msg, shape), lambda x: f.interval(x), f.precision
    return (
        lambda msg, x: f.push(msg, x, **params),
        lambda msg, shape: f.pop(msg, **params),
        lambda x: f.interval(x, **params),
        f.precision,
    )


def _encode(case):
    push, *_ = _codec(case["family"], case["settings"], dict(case["params"]))
    msg = Message()
    push(msg, np.asarray(case["symbols"]))
    return msg


def _load():
    return json.loads(VECTORS.read_text())


@pytest.mark.skipif(not os.environ.get("GENERATE_EXPECTED"), reason="regenerates the vectors on request only")
def test_generate_vectors():
    cases = []
    for name, family, settings, symbols, params in _inputs():
        case = {"name": name, "family": family, "settings": settings, "symbols": symbols, "params": params}
        case["words"] = _encode(case).to_words().tolist()
        cases.append(case)
    VECTORS.write_text(json.dumps({"format": "vaezip codec vectors v1", "cases": cases}, indent=0) + "\n")


CASES = _load()["cases"] if VECTORS.exists() else []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_encoder_output_is_pinned(case):
    assert _encode(case).to_words().tolist() == case["words"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pinned_words_decode(case):
    _, pop, *_ = _codec(case["family"], case["settings"], dict(case["params"]))
    symbols = np.asarray(case["symbols"])
    msg = Message.from_words(np.asarray(case["words"], dtype=np.uint32))
    assert pop(msg, symbols.shape).tolist() == case["symbols"]
    msg.finish(0)


@pytest.mark.parametrize("case", [c for c in CASES if c["family"] != "GaussianLatentPrior"],
                         ids=[c["name"] for c in CASES if c["family"] != "GaussianLatentPrior"])
def test_codec_kernels_equal_the_reference_coder_word_for_word(case):
    """The family's own push loop = its intervals pushed by the plain-Python coder."""
    _, _, intervals, precision = _codec(case["family"], case["settings"], dict(case["params"]))
    starts, freqs = intervals(np.asarray(case["symbols"]))
    ref = ReferenceMessage()
    for start, freq in zip(np.ravel(starts)[::-1], np.ravel(freqs)[::-1]):
        ref.push(int(start), int(freq), precision)
    assert ref.to_words() == case["words"]


def test_every_family_is_pinned():
    families = {c["family"] for c in CASES}
    assert families >= {
        "Uniform", "Bernoulli", "Categorical", "BetaBinomial", "DiscretizedLogistic", "LogisticMixture",
        "DiscretizedGaussian", "GaussianLatent", "GaussianLatentPrior", "AutoregressiveMixture",
        "AutoregressiveBernoulli",
    }
