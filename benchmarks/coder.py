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

The workloads are described and built in ``benchmarks/coder_workloads.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":  # one core, fixed before numba and numpy start (imported as a module: untouched)
    for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the workloads beside this file, however it is loaded
from coder_workloads import (  # noqa: E402
    TARGETS,  # noqa: F401  (part of what this script offers: the tests read it)
    WORKLOAD_NAMES,
    WORKLOADS,
    Case,
    Theirs,
    Workload,
    constriction,
    evaluate_targets,
    format_targets,
    load_family,
)
from vaezip.bench.machine import cpu_name  # noqa: E402
from vaezip.rans import FormatError, Message  # noqa: E402

DEFAULT_N = 10**7
DEFAULT_REPEAT = 3
DEFAULT_SEED = 2024
WARMUP_N = 1000


class RoundTripError(AssertionError):
    """A benchmark run whose output is not its input: its figures mean nothing."""


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
def machine_info() -> dict:
    return {
        "cpu_model": cpu_name(),
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
    record = _record(args, argv, compare)
    print(f"vaezip coder benchmark: n={args.n}, best of {args.repeat}, one core "
          f"({record['machine']['cpu_model']}); constriction: {record['versions']['constriction'] if compare else 'off'}")
    failed = False
    for workload in WORKLOADS:
        if workload.name in args.only:
            failed |= _run_one(workload, args, compare, record)
    record["load_average_after"] = list(os.getloadavg())
    ok = [r for r in record["workloads"] if "error" not in r]
    record["targets"] = evaluate_targets(ok)
    _report(record, args.json)
    if failed:
        print("ERROR: a round trip failed; its figures are not reported", file=sys.stderr)
    return 1 if failed else 0


def _record(args, argv, compare: bool) -> dict:
    """The JSON record before any workload has run."""
    import numba

    return {
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


def _run_one(workload: Workload, args, compare: bool, record: dict) -> bool:
    """Run ``workload`` into ``record``; True when a round trip failed."""
    cls = load_family(workload)
    if cls is None:
        record["skipped"].append({"name": workload.name, "reason": f"{workload.family} not in this checkout"})
        print(f"  {workload.name}: skipped ({workload.family} not in this checkout)")
        return False
    print(f"  {workload.name} ...", flush=True)
    try:
        record["workloads"].append(run_workload(workload, cls, args.n, args.repeat, args.seed, compare))
    except RoundTripError as err:
        record["workloads"].append({"name": workload.name, "n": args.n, "error": str(err)})
        return True
    return False


def _report(record: dict, json_path: str | None) -> None:
    """Print the tables and the load average; write the JSON record to ``json_path`` when given."""
    print()
    print(format_table(record["workloads"]))
    print()
    print(format_targets(record["targets"]))
    print(f"\nload average before {record['load_average_before'][0]:.2f}, after {record['load_average_after'][0]:.2f}"
          " (a busy machine slows both coders: compare ratios from one run)")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
        print(f"wrote {json_path}")


if __name__ == "__main__":
    sys.exit(main())
