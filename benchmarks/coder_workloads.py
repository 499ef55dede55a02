"""The workloads of ``benchmarks/coder.py``: one drawn data set per codec family, its twin for
constriction where constriction has the family, and the targets some workloads are held to.


- DiscretizedLogistic: 256 values (bit_depth 8), precision 16; per-pixel
  mean uniform in [0, 255], scale log-uniform in [0.3, 30].
- LogisticMixture: K = 5, 256 values, precision 16; per pixel a centre
  uniform in [0, 255], component means = centre + N(0, 10) clipped to
  [0, 255], scales log-uniform in [0.3, 30], logits N(0, 1).
- DiscretizedGaussian: constriction's ``QuantizedGaussian(-100, 100)``
  workload. Their symbols are -100..100, ours are theirs + 100 (n = 201),
  precision 24; means N(0, 20) clipped to [-100, 100], stds uniform in
  [1, 10], symbols round(N(mean, std)) clipped to the range.
- GaussianLatent: latent_bits 8, precision 16; posterior means N(0, 1),
  stds log-uniform in [0.01, 1]; symbols are the buckets of z ~ N(mean, std).
- Bernoulli: precision 24, per-symbol p uniform in [0.01, 0.99].
- Categorical: 256 categories, precision 24, one Dirichlet(1, ..., 1) table
  per symbol (float32, normalized; ours gets the same numbers as float64).
  At most ``CATEGORICAL_MAX_ROWS`` = 10**6 symbols: 10**7 rows of 256
  float64 would be 20 GB.
- BetaBinomial: n = 255 trials (256 values), precision 16; a and b
  log-uniform in [0.1, 100]; symbols Binomial(255, Beta(a, b)).
- Uniform: 256 values at the family's default precision (8, exact).

The three workloads that constriction also has (quantized Gaussian,
Bernoulli, Categorical) run at precision 24, constriction's fixed precision,
so that both coders quantize at the same resolution and the bits per symbol
compare like with like; they get exactly the same symbols and parameters.
constriction is optional (``pip install constriction``); without it those
columns are empty and its targets read ``n/a``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from vaezip.rans import Message

try:  # optional comparison
    import constriction
except ImportError:  # pragma: no cover - depends on the environment
    constriction = None

CATEGORICAL_MAX_ROWS = 10**6
CATEGORIES = 256
SAMPLE_CHUNK = 1 << 16  # rows per chunk when sampling categorical tables


@dataclass
class Theirs:
    """The same symbols for constriction: ``ours = theirs + offset``."""

    model: Any
    symbols: np.ndarray  # int32
    params: tuple


@dataclass
class Case:
    """One drawn workload: our symbols and how to push/pop them, and constriction's twin."""

    symbols: np.ndarray  # int64, what ``pop`` must return
    push: Callable[[Message], None]
    pop: Callable[[Message], np.ndarray]
    theirs: Theirs | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    family: str  # "module:Class" under vaezip.codecs
    description: str
    params: dict
    build: Callable[[Any, np.random.Generator, int], Case]  # (family class, rng, n)
    max_n: int | None = None
    constriction_model: str | None = None


def _log_uniform(rng, lo, hi, size):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _round_clip(values, lo, hi):
    """Nearest integer (bins [k - 0.5, k + 0.5)) clipped to [lo, hi], as int64."""
    with np.errstate(invalid="ignore"):
        return np.clip(np.floor(values + 0.5), lo, hi).astype(np.int64)


def _logistic_noise(rng, size):
    u = rng.random(size)
    with np.errstate(divide="ignore"):
        return np.log(u) - np.log1p(-u)


def _constriction_model(name: str, *args, **kwargs):
    return getattr(constriction.stream.model, name)(*args, **kwargs) if constriction else None


def _case(family, x: np.ndarray, params: dict, model=None, theirs: np.ndarray | None = None,
          *their_params) -> Case:
    """``x`` pushed and popped by ``family`` with the per-symbol ``params``; with a constriction
    ``model``, the same symbols (``theirs``, else ``x``) and ``their_params`` for it."""
    twin = None
    if model is not None:
        twin = Theirs(model, (x if theirs is None else theirs).astype(np.int32), their_params)
    return Case(x, lambda msg: family.push(msg, x, **params), lambda msg: family.pop(msg, **params), twin)


def build_logistic(cls, rng, n):
    family = cls(bit_depth=8, precision=16)
    mean = rng.uniform(0.0, 255.0, n)
    scale = _log_uniform(rng, 0.3, 30.0, n)
    x = _round_clip(mean + scale * _logistic_noise(rng, n), 0, 255)
    return _case(family, x, dict(mean=mean, scale=scale))


MIXTURE_K = 5


def build_mixture(cls, rng, n):
    family = cls(bit_depth=8, precision=16)
    k = MIXTURE_K
    logits = rng.normal(0.0, 1.0, (n, k))
    centre = rng.uniform(0.0, 255.0, (n, 1))
    means = np.clip(centre + rng.normal(0.0, 10.0, (n, k)), 0.0, 255.0)
    scales = _log_uniform(rng, 0.3, 30.0, (n, k))
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cum = np.cumsum(weights, axis=1)
    u = rng.random(n) * cum[:, -1]
    comp = np.minimum((cum <= u[:, None]).sum(axis=1), k - 1)
    rows = np.arange(n)
    x = _round_clip(means[rows, comp] + scales[rows, comp] * _logistic_noise(rng, n), 0, 255)
    return _case(family, x, dict(logits=logits, means=means, scales=scales))


GAUSSIAN_LO, GAUSSIAN_HI = -100, 100


def build_gaussian(cls, rng, n):
    family = cls(GAUSSIAN_HI - GAUSSIAN_LO + 1, precision=24)
    mean = np.clip(rng.normal(0.0, 20.0, n), GAUSSIAN_LO, GAUSSIAN_HI)
    std = rng.uniform(1.0, 10.0, n)
    theirs = _round_clip(mean + std * rng.standard_normal(n), GAUSSIAN_LO, GAUSSIAN_HI)
    x = theirs - GAUSSIAN_LO
    ours_mean = mean - GAUSSIAN_LO
    model = _constriction_model("QuantizedGaussian", GAUSSIAN_LO, GAUSSIAN_HI)
    return _case(family, x, dict(mean=ours_mean, std=std), model, theirs, mean, std)


def build_latent(cls, rng, n):
    family = cls(latent_bits=8, precision=16)
    mean = rng.normal(0.0, 1.0, n)
    std = _log_uniform(rng, 0.01, 1.0, n)
    z = mean + std * rng.standard_normal(n)
    x = np.searchsorted(family.edges[1:], z, side="right").astype(np.int64)
    return _case(family, x, dict(mean=mean, std=std))


def build_bernoulli(cls, rng, n):
    family = cls(precision=24)
    p = rng.uniform(0.01, 0.99, n)
    x = (rng.random(n) < p).astype(np.int64)
    model = _constriction_model("Bernoulli", perfect=False)
    return _case(family, x, dict(p=p), model, None, p)


def build_categorical(cls, rng, n):
    family = cls(precision=24)
    table32 = rng.standard_exponential((n, CATEGORIES), dtype=np.float32)  # Dirichlet(1, ..., 1)
    table32 /= table32.sum(axis=1, keepdims=True)
    table = table32.astype(np.float64)
    x = np.empty(n, dtype=np.int64)
    for lo in range(0, n, SAMPLE_CHUNK):
        cum = np.cumsum(table[lo : lo + SAMPLE_CHUNK], axis=1)
        u = rng.random(cum.shape[0]) * cum[:, -1]
        x[lo : lo + SAMPLE_CHUNK] = np.minimum((cum <= u[:, None]).sum(axis=1), CATEGORIES - 1)
    model = _constriction_model("Categorical", perfect=False)
    return _case(family, x, dict(probs=table), model, None, table32)


def build_betabinomial(cls, rng, n):
    family = cls(precision=16)
    a = _log_uniform(rng, 0.1, 100.0, n)
    b = _log_uniform(rng, 0.1, 100.0, n)
    x = rng.binomial(255, rng.beta(a, b)).astype(np.int64)
    return _case(family, x, dict(a=a, b=b))


def build_uniform(cls, rng, n):
    family = cls(256)
    x = rng.integers(0, 256, n, dtype=np.int64)
    return Case(x, lambda msg: family.push(msg, x), lambda msg: family.pop(msg, x.shape))


WORKLOADS = [
    Workload(
        "DiscretizedLogistic", "logistic:DiscretizedLogistic",
        "256 values; mean U[0,255], scale logU[0.3,30] per pixel; symbols from the model",
        {"bit_depth": 8, "precision": 16, "mean": "uniform [0, 255]", "scale": "log-uniform [0.3, 30]"},
        build_logistic,
    ),
    Workload(
        "LogisticMixture", "logistic:LogisticMixture",
        "K=5, 256 values; centre U[0,255], means centre+N(0,10), scales logU[0.3,30], logits N(0,1)",
        {"bit_depth": 8, "precision": 16, "K": MIXTURE_K, "centre": "uniform [0, 255]",
         "means": "centre + N(0, 10) clipped to [0, 255]", "scales": "log-uniform [0.3, 30]",
         "logits": "N(0, 1)"},
        build_mixture,
    ),
    Workload(
        "DiscretizedGaussian", "gaussian:DiscretizedGaussian",
        "n=201 (constriction's -100..100 + 100); mean N(0,20) clipped, std U[1,10]",
        {"n": 201, "precision": 24, "mean": "N(0, 20) clipped to [-100, 100] (+100 for ours)",
         "std": "uniform [1, 10]", "symbols": "round(N(mean, std)) clipped"},
        build_gaussian, constriction_model="QuantizedGaussian(-100, 100)",
    ),
    Workload(
        "GaussianLatent", "gaussian:GaussianLatent",
        "latent_bits 8; posterior mean N(0,1), std logU[0.01,1]",
        {"latent_bits": 8, "precision": 16, "mean": "N(0, 1)", "std": "log-uniform [0.01, 1]"},
        build_latent,
    ),
    Workload(
        "Bernoulli", "bernoulli:Bernoulli",
        "p U[0.01,0.99] per symbol",
        {"precision": 24, "p": "uniform [0.01, 0.99]"},
        build_bernoulli, constriction_model="Bernoulli(perfect=False)",
    ),
    Workload(
        "Categorical", "categorical:Categorical",
        "256 categories, one Dirichlet(1) table per symbol (at most 10**6 rows)",
        {"categories": CATEGORIES, "precision": 24, "table": "Dirichlet(1, ..., 1) per symbol, float32",
         "max_rows": CATEGORICAL_MAX_ROWS},
        build_categorical, max_n=CATEGORICAL_MAX_ROWS, constriction_model="Categorical(perfect=False)",
    ),
    Workload(
        "BetaBinomial", "betabinomial:BetaBinomial",
        "255 trials; a, b logU[0.1,100] per symbol",
        {"trials": 255, "precision": 16, "a": "log-uniform [0.1, 100]", "b": "log-uniform [0.1, 100]"},
        build_betabinomial,
    ),
    Workload(
        "Uniform", "uniform:Uniform",
        "256 values, default precision (8, exact)",
        {"n": 256, "precision": "default (8)"},
        build_uniform,
    ),
]
WORKLOAD_NAMES = [w.name for w in WORKLOADS]


def load_family(workload: Workload):
    """The family class, or ``None`` if this checkout does not have it yet."""
    module, cls = workload.family.split(":")
    name = f"vaezip.codecs.{module}"
    try:
        return getattr(importlib.import_module(name), cls)
    except ModuleNotFoundError as err:
        if err.name != name:  # the module exists but is broken: not ours to hide
            raise
        return None


# -- targets -----------------------------------------------------------------------------
# (workload, side, kind, threshold): kind "ratio" compares ours/constriction to the
# threshold, "rate" compares our symbols/s to it
TARGETS = [
    ("DiscretizedGaussian", "push", "ratio", 1.0),
    ("DiscretizedGaussian", "pop", "ratio", 1.0),
    ("Bernoulli", "push", "ratio", 1.0),
    ("Bernoulli", "pop", "ratio", 1.0),
    ("DiscretizedLogistic", "push", "rate", 30e6),
    ("DiscretizedLogistic", "pop", "rate", 10e6),
]


def evaluate_targets(results: list[dict]) -> list[dict]:
    by_name = {r["name"]: r for r in results}
    out = []
    for name, side, kind, threshold in TARGETS:
        r = by_name.get(name)
        if kind == "ratio":
            text = f"{name} {side}: ours/constriction >= {threshold:g}"
            value = r["ratio"][side] if r and r.get("ratio") else None
        else:
            text = f"{name} {side}: >= {threshold / 1e6:g} M symbols/s"
            value = r["ours"][f"{side}_symbols_per_s"] if r else None
        status = "n/a" if value is None else ("PASS" if value >= threshold else "MISS")
        out.append({"workload": name, "side": side, "kind": kind, "target": text,
                    "threshold": threshold, "value": value, "status": status})
    return out


def format_targets(targets: list[dict]) -> str:
    lines = []
    for t in targets:
        if t["value"] is None:
            shown = "-"
        elif t["kind"] == "ratio":
            shown = f"{t['value']:.2f}x"
        else:
            shown = f"{t['value'] / 1e6:.2f} M/s"
        lines.append(f"{t['status']:<4}  {t['target']:<52} {shown}")
    return "\n".join(lines)
