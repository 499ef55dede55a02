"""Push and pop throughput of every vaezip codec family, beside constriction.

Usage::

    python benchmarks/coder.py [--n 10000000] [--repeat 3] [--json FILE] [--only NAME,...]

Each workload draws ``n`` symbols with their own per-symbol parameters
(fixed seed), pushes them onto a fresh ``Message`` through the family's
public ``push`` (argument checks included: that is what a caller pays),
serializes the message, and pops them back from a strict message read from
those words. Every run is verified: the popped symbols must equal the pushed
ones, every push must give the same words, and ``Message.finish(0)`` must
find the message back at its initial state with an empty tail. A failed
check is reported and makes the script exit with status 1.

Timing: one core (``NUMBA_NUM_THREADS=1`` is set before numba is imported,
no kernel is parallel, constriction is single-threaded); each workload is
first run once on ``WARMUP_N`` symbols so that JIT compilation and cache
loading are not timed; the figure kept is the best of ``--repeat`` runs.
Our runs alternate with constriction's (push, push, ..., then pop, pop, ...)
so that a change of machine load hits both coders alike. Throughput is
symbols per second of wall time.

Workloads (symbols are drawn from the model itself unless said otherwise):

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

import os
import sys

if __name__ == "__main__":  # one core, fixed before numba and numpy start (imported as a module: untouched)
    for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

from vaezip.rans import FormatError, Message  # noqa: E402

try:  # optional comparison
    import constriction  # noqa: E402
except ImportError:  # pragma: no cover - depends on the environment
    constriction = None

DEFAULT_N = 10**7
DEFAULT_REPEAT = 3
DEFAULT_SEED = 2024
WARMUP_N = 1000
CATEGORICAL_MAX_ROWS = 10**6
CATEGORIES = 256
SAMPLE_CHUNK = 1 << 16  # rows per chunk when sampling categorical tables


class RoundTripError(AssertionError):
    """A benchmark run whose output is not its input: its figures mean nothing."""


# -- workloads -----------------------------------------------------------------------
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


def build_logistic(cls, rng, n):
    family = cls(bit_depth=8, precision=16)
    mean = rng.uniform(0.0, 255.0, n)
    scale = _log_uniform(rng, 0.3, 30.0, n)
    x = _round_clip(mean + scale * _logistic_noise(rng, n), 0, 255)
    return Case(
        x,
        lambda msg: family.push(msg, x, mean=mean, scale=scale),
        lambda msg: family.pop(msg, mean=mean, scale=scale),
    )


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
    return Case(
        x,
        lambda msg: family.push(msg, x, logits=logits, means=means, scales=scales),
        lambda msg: family.pop(msg, logits=logits, means=means, scales=scales),
    )


GAUSSIAN_LO, GAUSSIAN_HI = -100, 100


def build_gaussian(cls, rng, n):
    family = cls(GAUSSIAN_HI - GAUSSIAN_LO + 1, precision=24)
    mean = np.clip(rng.normal(0.0, 20.0, n), GAUSSIAN_LO, GAUSSIAN_HI)
    std = rng.uniform(1.0, 10.0, n)
    theirs = _round_clip(mean + std * rng.standard_normal(n), GAUSSIAN_LO, GAUSSIAN_HI)
    x = theirs - GAUSSIAN_LO
    ours_mean = mean - GAUSSIAN_LO
    model = _constriction_model("QuantizedGaussian", GAUSSIAN_LO, GAUSSIAN_HI)
    return Case(
        x,
        lambda msg: family.push(msg, x, mean=ours_mean, std=std),
        lambda msg: family.pop(msg, mean=ours_mean, std=std),
        Theirs(model, theirs.astype(np.int32), (mean, std)) if model is not None else None,
    )


def build_latent(cls, rng, n):
    family = cls(latent_bits=8, precision=16)
    mean = rng.normal(0.0, 1.0, n)
    std = _log_uniform(rng, 0.01, 1.0, n)
    z = mean + std * rng.standard_normal(n)
    x = np.searchsorted(family.edges[1:], z, side="right").astype(np.int64)
    return Case(
        x,
        lambda msg: family.push(msg, x, mean=mean, std=std),
        lambda msg: family.pop(msg, mean=mean, std=std),
    )


def build_bernoulli(cls, rng, n):
    family = cls(precision=24)
    p = rng.uniform(0.01, 0.99, n)
    x = (rng.random(n) < p).astype(np.int64)
    model = _constriction_model("Bernoulli", perfect=False)
    return Case(
        x,
        lambda msg: family.push(msg, x, p=p),
        lambda msg: family.pop(msg, p=p),
        Theirs(model, x.astype(np.int32), (p,)) if model is not None else None,
    )


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
    return Case(
        x,
        lambda msg: family.push(msg, x, probs=table),
        lambda msg: family.pop(msg, probs=table),
        Theirs(model, x.astype(np.int32), (table32,)) if model is not None else None,
    )


def build_betabinomial(cls, rng, n):
    family = cls(precision=16)
    a = _log_uniform(rng, 0.1, 100.0, n)
    b = _log_uniform(rng, 0.1, 100.0, n)
    x = rng.binomial(255, rng.beta(a, b)).astype(np.int64)
    return Case(
        x,
        lambda msg: family.push(msg, x, a=a, b=b),
        lambda msg: family.pop(msg, a=a, b=b),
    )


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


# -- measuring ---------------------------------------------------------------------------
def check_round_trip(expected: np.ndarray, decoded: np.ndarray, who: str) -> None:
    """Raise ``RoundTripError`` unless ``decoded`` equals ``expected`` element for element."""
    decoded = np.asarray(decoded).ravel()
    if decoded.shape != expected.shape or not np.array_equal(decoded, expected):
        bad = "shape" if decoded.shape != expected.shape else int(np.argmax(decoded != expected))
        raise RoundTripError(f"{who}: decoded symbols differ from the input (first difference at {bad})")


def _timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


class _OursRun:
    """vaezip's push and pop of one case, each run verified; keeps the best times."""

    who = "vaezip"

    def __init__(self, case: Case):
        self.case, self.words, self.bits = case, None, 0
        self.push_s = self.pop_s = float("inf")

    def push_once(self) -> None:
        msg = Message()
        seconds, _ = _timed(self.case.push, msg)
        self.push_s = min(self.push_s, seconds)
        words = msg.to_words()
        if self.words is not None and not np.array_equal(words, self.words):
            raise RoundTripError("vaezip: two pushes of the same input gave different words")
        self.words, self.bits = words, msg.num_bits()

    def pop_once(self) -> None:
        msg = Message.from_words(self.words)
        try:
            seconds, decoded = _timed(self.case.pop, msg)
        except FormatError as err:
            raise RoundTripError(f"vaezip: decoding failed: {err}") from None
        self.pop_s = min(self.pop_s, seconds)
        check_round_trip(self.case.symbols, decoded, "vaezip")
        try:
            msg.finish(0)
        except FormatError as err:
            raise RoundTripError(f"vaezip: message not clean after decoding: {err}") from None


class _TheirsRun:
    """constriction's ``AnsCoder`` encode/decode of the same case, each run verified."""

    who = "constriction"

    def __init__(self, theirs: Theirs):
        self.theirs, self.compressed, self.bits = theirs, None, 0
        self.push_s = self.pop_s = float("inf")

    def push_once(self) -> None:
        t = self.theirs
        coder = constriction.stream.stack.AnsCoder()
        seconds, _ = _timed(coder.encode_reverse, t.symbols, t.model, *t.params)
        self.push_s = min(self.push_s, seconds)
        compressed = coder.get_compressed()
        if self.compressed is not None and not np.array_equal(compressed, self.compressed):
            raise RoundTripError("constriction: two encodings of the same input gave different words")
        self.compressed, self.bits = compressed, 32 * compressed.size

    def pop_once(self) -> None:
        t = self.theirs
        coder = constriction.stream.stack.AnsCoder(self.compressed)
        seconds, decoded = _timed(coder.decode, t.model, *t.params)
        self.pop_s = min(self.pop_s, seconds)
        check_round_trip(t.symbols, decoded, "constriction")
        if not coder.is_empty():
            raise RoundTripError("constriction: coder not empty after decoding every symbol")


def measure(runs: list, n: int, repeat: int) -> list[dict]:
    """Best-of-``repeat`` figures of each run; the runs alternate, so a change of
    machine load hits both coders alike and their ratio stays fair."""
    for _ in range(repeat):
        for run in runs:
            run.push_once()
    for _ in range(repeat):
        for run in runs:
            run.pop_once()
    return [_figures(n, run.push_s, run.pop_s, run.bits) for run in runs]


def measure_ours(case: Case, repeat: int) -> dict:
    """Best push and pop times of vaezip alone, with every run verified."""
    return measure([_OursRun(case)], case.symbols.size, repeat)[0]


def _figures(n, push_s, pop_s, bits) -> dict:
    return {
        "push_s": push_s,
        "pop_s": pop_s,
        "push_symbols_per_s": n / push_s,
        "pop_symbols_per_s": n / pop_s,
        "bits": int(bits),
        "bits_per_symbol": bits / n,
        "verified": True,
    }


def _runs(case: Case, compare: bool) -> list:
    return [_OursRun(case)] + ([_TheirsRun(case.theirs)] if compare and case.theirs is not None else [])


def run_workload(workload: Workload, cls, n: int, repeat: int, seed: int, compare: bool) -> dict:
    n = min(n, workload.max_n) if workload.max_n else n
    rng = np.random.default_rng([seed, WORKLOAD_NAMES.index(workload.name)])
    warm = workload.build(cls, np.random.default_rng(seed), min(WARMUP_N, n))
    measure(_runs(warm, compare), warm.symbols.size, 1)
    case = workload.build(cls, rng, n)
    figures = measure(_runs(case, compare), n, repeat)
    record = {
        "name": workload.name,
        "family": f"vaezip.codecs.{workload.family.replace(':', '.')}",
        "description": workload.description,
        "params": workload.params,
        "n": n,
        "ours": figures[0],
        "constriction": None,
        "constriction_model": None,
        "ratio": None,
    }
    if len(figures) > 1:
        theirs = figures[1]
        record["constriction"] = theirs
        record["constriction_model"] = workload.constriction_model
        record["ratio"] = {
            side: record["ours"][f"{side}_symbols_per_s"] / theirs[f"{side}_symbols_per_s"]
            for side in ("push", "pop")
        }
    return record


# -- machine and report ------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    return {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cores_used": 1,
        "platform": platform.platform(),
    }


def versions() -> dict:
    import numba

    import vaezip

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "constriction": _constriction_version(),
        "vaezip": vaezip.__version__,
    }


def _constriction_version():
    if constriction is None:
        return None
    try:
        from importlib.metadata import version

        return version("constriction")
    except Exception:  # pragma: no cover - metadata missing
        return getattr(constriction, "__version__", "unknown")


def _rate(value):
    return _num(value / 1e6 if value is not None else None, 8, 2)


def _num(value, width, digits):
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def format_table(results: list[dict]) -> str:
    head = (f"{'workload':<20} {'n':>9} | {'push':>8} {'pop':>8} {'bits/sym':>8} | "
            f"{'c.push':>8} {'c.pop':>8} {'bits/sym':>8} | {'push x':>6} {'pop x':>6}")
    lines = ["throughput in M symbols/s; c. = constriction; x = ours/constriction", head, "-" * len(head)]
    for r in results:
        if "error" in r:
            lines.append(f"{r['name']:<20} {r.get('n', 0):>9} | FAILED: {r['error']}")
            continue
        o, t, q = r["ours"], r["constriction"] or {}, r["ratio"] or {}
        lines.append(
            f"{r['name']:<20} {r['n']:>9} | {_rate(o['push_symbols_per_s'])} {_rate(o['pop_symbols_per_s'])} "
            f"{o['bits_per_symbol']:8.4f} | {_rate(t.get('push_symbols_per_s'))} "
            f"{_rate(t.get('pop_symbols_per_s'))} "
            f"{_num(t.get('bits_per_symbol'), 8, 4)} | "
            f"{_num(q.get('push'), 6, 2)} {_num(q.get('pop'), 6, 2)}"
        )
    return "\n".join(lines)


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


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Push/pop throughput of every vaezip codec family (single core), "
        "beside constriction when it is installed.",
        epilog="Example: python benchmarks/coder.py --n 1000000 --only Bernoulli,DiscretizedGaussian",
    )
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="symbols per workload (default 10**7)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs per figure; the best is kept")
    parser.add_argument("--json", metavar="FILE", help="write the full record as JSON to FILE")
    parser.add_argument("--only", metavar="NAME,...", help=f"workloads to run, from: {','.join(WORKLOAD_NAMES)}")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the drawn workloads")
    parser.add_argument("--no-constriction", action="store_true", help="skip the constriction runs")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")
    args.only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else list(WORKLOAD_NAMES)
    unknown = sorted(set(args.only) - set(WORKLOAD_NAMES))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOAD_NAMES)}")
    return args


def main(argv=None) -> int:
    """Run the benchmark; returns 0, or 1 when a round trip failed."""
    args = parse_args(argv)
    compare = constriction is not None and not args.no_constriction
    import numba

    record = {
        "benchmark": "coder",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/coder.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_info(),
        "versions": versions(),
        "settings": {
            "n": args.n, "repeat": args.repeat, "seed": args.seed, "warmup_n": WARMUP_N,
            "numba_num_threads": numba.config.NUMBA_NUM_THREADS, "constriction": compare,
            "timing": "best of repeat, wall time of the public push/pop call, JIT warm-up excluded, "
                      "our runs alternating with constriction's",
        },
        "load_average_before": list(os.getloadavg()),
        "workloads": [],
        "skipped": [],
    }
    print(f"vaezip coder benchmark: n={args.n}, best of {args.repeat}, one core "
          f"({record['machine']['cpu_model']}); constriction: {record['versions']['constriction'] if compare else 'off'}")
    failed = False
    for workload in WORKLOADS:
        if workload.name not in args.only:
            continue
        cls = load_family(workload)
        if cls is None:
            record["skipped"].append({"name": workload.name, "reason": f"{workload.family} not in this checkout"})
            print(f"  {workload.name}: skipped ({workload.family} not in this checkout)")
            continue
        print(f"  {workload.name} ...", flush=True)
        try:
            result = run_workload(workload, cls, args.n, args.repeat, args.seed, compare)
        except RoundTripError as err:
            failed = True
            result = {"name": workload.name, "n": args.n, "error": str(err)}
        record["workloads"].append(result)
    record["load_average_after"] = list(os.getloadavg())
    ok = [r for r in record["workloads"] if "error" not in r]
    record["targets"] = evaluate_targets(ok)
    print()
    print(format_table(record["workloads"]))
    print()
    print(format_targets(record["targets"]))
    print(f"\nload average before {record['load_average_before'][0]:.2f}, after {record['load_average_after'][0]:.2f}"
          " (a busy machine slows both coders: compare ratios from one run)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")
    if failed:
        print("ERROR: a round trip failed; its figures are not reported", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
