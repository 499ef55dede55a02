"""The report's estimates: a seeded random subset of the VAE-coded pictures, with standard errors."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from conftest import blobs
from test_api import pictures_of
from test_cli_coding import write_pngs
from vaezip import api
from vaezip.cli import main
from vaezip.pipeline.plan import ESTIMATE_EVERY, ESTIMATE_IMAGES, ESTIMATE_MIN, estimate_count, estimate_subset
from vaezip.pipeline.report import mean_and_se


def test_the_subset_costs_a_tenth_of_the_coding_and_stays_within_its_bounds():
    assert estimate_count(10_000, 16) == 10_000 // (ESTIMATE_EVERY * 16) == 39  # one picture per 16 K coded ones
    assert estimate_count(1_000_000, 16) == ESTIMATE_IMAGES
    assert estimate_count(100, 16) == ESTIMATE_MIN and estimate_count(5, 16) == 5
    assert estimate_count(10_000, 0) == 0 and estimate_count(0, 16) == 0
    assert estimate_count(500, 16, limit=500) == 500 and estimate_count(500, 16, limit=10**9) == 500
    assert estimate_count(500, 16, limit=3) == 3


def test_the_subset_is_seeded_ordered_and_without_repeats():
    indices = list(range(0, 300, 3))
    drawn = estimate_subset(indices, 20, seed=7)
    assert drawn == estimate_subset(indices, 20, seed=7) != estimate_subset(indices, 20, seed=8)
    assert drawn == sorted(set(drawn)) and len(drawn) == 20 and set(drawn) <= set(indices)
    assert estimate_subset(indices, 500, seed=0) == indices


def test_mean_and_standard_error_with_the_finite_population_correction():
    assert mean_and_se([], 10) == (None, None) and mean_and_se([2.0], 10) == (2.0, None)
    mean, se = mean_and_se([1.0, 2.0, 3.0, 4.0], 100)
    assert mean == 2.5 and se == pytest.approx(math.sqrt(5 / 3 / 4 * (1 - 4 / 100)))
    assert mean_and_se([1.0, 3.0], 2)[1] == 0.0  # every picture estimated: the mean is exact


def test_a_subset_reports_estimates_without_changing_the_file(tiny_zoo):
    pictures = pictures_of(blobs(40, seed=2))
    plain, _ = api.compress(pictures, model="tiny")
    data, report = api.compress(pictures, model="tiny", estimate_samples=2, seed=5)
    assert data == plain  # the coders never depend on which pictures the subset drew
    estimates = report.estimates()
    vae = [p for p in report.pictures if p.coder == "vae"]
    assert estimates["of"] == len(vae) and estimates["images"] == min(len(vae), ESTIMATE_MIN)
    assert sum(p.is_bits is not None for p in report.pictures) == estimates["images"]
    assert estimates["seed"] == 5 and estimates["samples"] == 2 and "random sample" in estimates["method"]
    assert estimates["neg_elbo_se"] > 0 and estimates["is_se"] > 0
    assert estimates["is_bpd"] == report.is_bpd > 0
    again = api.compress(pictures, model="tiny", estimate_samples=2, seed=5)[1]
    assert [p.is_bits for p in again.pictures] == [p.is_bits for p in report.pictures]


def test_estimating_every_picture(tiny_zoo):
    pictures = pictures_of(blobs(12, seed=3))
    _, report = api.compress(pictures, model="tiny", estimate_samples=2, estimate_images=len(pictures))
    estimates = report.estimates()
    assert all(p.neg_elbo_bits is not None for p in report.pictures)  # rule 3 may send some to the model-free coder
    assert estimates["images"] == estimates["of"]
    assert estimates["neg_elbo_se"] == (0.0 if estimates["of"] >= 2 else None)
    assert api.compress(pictures, model="tiny")[1].estimates()["images"] == 0  # api default: no estimates


def test_the_command_prints_dashes_and_the_subset_mean_with_its_error(tiny_zoo, tmp_path):
    write_pngs(tmp_path / "in", blobs(30, seed=4))
    result = CliRunner().invoke(main, ["compress", str(tmp_path / "in"), "-o", str(tmp_path / "a.vz"),
                                       "--model", "tiny", "-k", "2"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("img")]
    assert sum(" - " in row for row in rows) == 30 - ESTIMATE_MIN
    total = next(line for line in result.stdout.splitlines() if line.startswith("total"))
    assert total.count("±") == 2
    assert f"estimates: {ESTIMATE_MIN} of the" in result.stdout
    record = json.loads(CliRunner().invoke(main, [
        "compress", str(tmp_path / "in"), "-o", str(tmp_path / "b.vz"), "--model", "tiny", "-k", "2",
        "--estimate-all", "--json"]).stdout)
    assert record["estimates"]["images"] == record["estimates"]["of"]
    assert all(entry["is_bits"] is not None for entry in record["pictures"])
    assert set(record["estimates"]) == {"images", "of", "seed", "samples", "method", "neg_elbo_bpd", "neg_elbo_se",
                                        "is_bpd", "is_se"}
    none = CliRunner().invoke(main, ["compress", str(tmp_path / "in"), "-o", str(tmp_path / "c.vz"),
                                     "--model", "tiny", "-k", "0", "--json"])
    assert json.loads(none.stdout)["estimates"]["images"] == 0
