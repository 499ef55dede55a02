"""benchmarks/coder.py on a tiny n: it runs every family, verifies its round
trips, catches a wrong one, and writes the JSON keys the README documents."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from vaezip.codecs.logistic import DiscretizedLogistic

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "coder.py"
TINY_N = 2000

RECORD_KEYS = {
    "benchmark", "date", "command", "machine", "versions", "settings",
    "load_average_before", "load_average_after", "workloads", "skipped", "targets",
}
MACHINE_KEYS = {"cpu_model", "logical_cpus", "cores_used", "platform"}
VERSION_KEYS = {"python", "numpy", "numba", "constriction", "vaezip"}
WORKLOAD_KEYS = {
    "name", "family", "description", "params", "n", "ours", "constriction", "constriction_model", "ratio",
}
FIGURE_KEYS = {"push_s", "pop_s", "push_symbols_per_s", "pop_symbols_per_s", "bits", "bits_per_symbol", "verified"}
TARGET_KEYS = {"workload", "side", "kind", "target", "threshold", "value", "status"}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_coder", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def record(bench, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "coder.json"
    assert bench.main(["--n", str(TINY_N), "--repeat", "1", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_record_has_the_documented_keys(record):
    assert RECORD_KEYS <= set(record)
    assert MACHINE_KEYS <= set(record["machine"])
    assert VERSION_KEYS <= set(record["versions"])
    assert record["settings"]["n"] == TINY_N and record["settings"]["repeat"] == 1


def test_every_family_ran_or_is_not_in_the_checkout(bench, record):
    ran = [w["name"] for w in record["workloads"]]
    skipped = [s["name"] for s in record["skipped"]]
    assert sorted(ran + skipped) == sorted(bench.WORKLOAD_NAMES)
    by_name = {w.name: w for w in bench.WORKLOADS}
    for name in skipped:  # only a module that does not exist yet may be skipped
        assert bench.load_family(by_name[name]) is None


def test_every_round_trip_is_verified(bench, record):
    for w in record["workloads"]:
        assert "error" not in w, w
        assert WORKLOAD_KEYS <= set(w)
        assert w["n"] == TINY_N
        assert FIGURE_KEYS <= set(w["ours"]) and w["ours"]["verified"] is True
        assert w["ours"]["push_symbols_per_s"] > 0 and w["ours"]["pop_symbols_per_s"] > 0
        assert w["ours"]["bits"] >= 64


def test_constriction_runs_beside_ours_when_installed(bench, record):
    compared = {w["name"]: w for w in record["workloads"] if w["constriction"] is not None}
    if bench.constriction is None:
        assert not compared
        return
    expected = {w.name for w in bench.WORKLOADS if w.constriction_model} & {w["name"] for w in record["workloads"]}
    assert set(compared) == expected
    for w in compared.values():
        assert FIGURE_KEYS <= set(w["constriction"]) and w["constriction"]["verified"] is True
        assert set(w["ratio"]) == {"push", "pop"}
        # same symbols, same precision: the sizes agree within 1 % plus the flushed state
        ours, theirs = w["ours"]["bits"], w["constriction"]["bits"]
        assert abs(ours - theirs) <= 0.01 * ours + 64


def test_targets_are_all_reported(bench, record):
    assert len(record["targets"]) == len(bench.TARGETS)
    for t in record["targets"]:
        assert TARGET_KEYS <= set(t)
        assert t["status"] in {"PASS", "MISS", "n/a"}


def test_a_wrong_decode_is_caught(bench):
    family = DiscretizedLogistic()
    x = np.arange(50, dtype=np.int64)

    def pop(msg):  # a decoder that gets one symbol wrong
        out = family.pop(msg, mean=np.full(50, 25.0), scale=10.0)
        out[3] += 1
        return out

    case = bench.Case(x, lambda msg: family.push(msg, x, mean=25.0, scale=10.0), pop)
    with pytest.raises(bench.RoundTripError, match="first difference at 3"):
        bench.measure_ours(case, 1)


def test_a_truncated_decode_is_caught(bench):
    family = DiscretizedLogistic()
    x = np.arange(50, dtype=np.int64)
    case = bench.Case(  # pops more symbols than were pushed: the strict message runs dry
        x, lambda msg: family.push(msg, x, mean=25.0, scale=10.0),
        lambda msg: family.pop(msg, mean=np.full(5000, 25.0), scale=0.5),
    )
    with pytest.raises(bench.RoundTripError, match="decoding failed"):
        bench.measure_ours(case, 1)


def test_a_message_left_unclean_is_caught(bench):
    family = DiscretizedLogistic()
    x = np.arange(50, dtype=np.int64)

    def push(msg):  # one extra symbol below the ones popped
        family.push(msg, [7], mean=25.0, scale=10.0)
        family.push(msg, x, mean=25.0, scale=10.0)

    case = bench.Case(x, push, lambda msg: family.pop(msg, mean=np.full(50, 25.0), scale=10.0))
    with pytest.raises(bench.RoundTripError, match="not clean"):
        bench.measure_ours(case, 1)


def test_unknown_workload_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.main(["--only", "NoSuchFamily"])
