"""``vaezip bench`` end to end on the tiny zoo: the record, its documented schema, the errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import blobs
from vaezip import bench
from vaezip.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "bench.md").read_text()
OPAQUE = {"vaezip.coders", "versions"}  # objects whose keys depend on the run; documented as a whole


def run(*args):
    return CliRunner().invoke(main, ["bench", *map(str, args)])


@pytest.fixture
def grey_set(tmp_path) -> Path:
    path = tmp_path / "blobs.npz"
    np.savez(path, images=blobs(10))
    return path


@pytest.fixture
def record(tiny_zoo, grey_set, tmp_path) -> dict:
    out = tmp_path / "bench.json"
    result = run(grey_set, "--model", "tiny-fact", "--baselines", "png,xz", "-k", "4", "--json", out)
    assert result.exit_code == 0, result.output
    assert "vaezip" in result.output and f"wrote JSON to {out}" in result.output
    return json.loads(out.read_text())


def _keys(value, prefix="") -> set[str]:
    keys = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            keys.add(path)
            if path not in OPAQUE:
                keys |= _keys(item, path + ".")
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for item in value:
            keys |= _keys(item, prefix[:-1] + "[].")
    return keys


def test_record_has_exactly_the_documented_keys(record):
    documented = set(re.findall(r"^\| `([\w.\[\]]+)` \|", DOCS, flags=re.M))
    assert _keys(record) == documented
    assert record["schema"] == bench.SCHEMA and f"`\"{bench.SCHEMA}\"`" in DOCS


def test_record_values_are_consistent(record):
    v, data = record["vaezip"], record["dataset"]
    assert (data["images"], data["height"], data["width"], data["mode"], data["dims"]) == (10, 8, 8, "L", 640)
    assert record["model"]["name"] == "tiny-fact" and record["particles"] == 1
    assert v["exact"] is True and v["coders"] == {"vae": 10}
    assert v["bpd"] > 0 and v["bpd"] == pytest.approx(8 * v["file_bytes"] / data["dims"])
    assert v["estimate_samples"] == 4 and v["estimated_images"] == 10
    assert v["is_bpd"] > 0 and v["neg_elbo_bpd"] > 0
    assert v["gap_neg_elbo_bpd"] == pytest.approx(v["bpd"] - v["neg_elbo_bpd"])
    assert v["gap_is_percent"] == pytest.approx(100 * v["gap_is_bpd"] / v["is_bpd"])
    first = v["first_image"]
    assert first["overhead_bits"] == pytest.approx(first["archive_bits"] - first["share_bits"])
    assert first["archive_bits"] > first["neg_elbo_bits"] > 0
    for step in ("compress", "decompress"):
        assert v[step]["seconds"] > 0 and v[step]["images_per_s"] == pytest.approx(10 / v[step]["seconds"])
    assert v["peak_rss_mib"] > 10
    rows = {(row["name"], row["layout"]): row for row in record["baselines"]}
    assert set(rows) == {("png", "per-image"), ("png", "mosaic"), ("xz", "raw")}
    for row in rows.values():
        assert row["status"] == "ok" and row["bytes"] > 0
        assert row["bpd"] == pytest.approx(8 * row["bytes"] / data["dims"])
        assert row["ratio"] == pytest.approx(row["bpd"] / v["bpd"])
    assert record["command"].startswith("vaezip bench ") and "--model tiny-fact" in record["command"]


def test_results_table_is_generated_from_records(record, tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "bench-blobs.json").write_text(json.dumps(record))
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "results_table.py"), "--dir", str(folder)],
                         capture_output=True, text=True, check=True).stdout
    assert f"**{record['vaezip']['bpd']:.3f}**" in out and record["command"] in out
    assert sum(line.startswith("|") for line in out.splitlines()) == 3  # header, rule, one row


def test_json_to_stdout_replaces_the_table(tiny_zoo, grey_set):
    result = run(grey_set, "--baselines", "none", "-k", "0", "--json", "-")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["baselines"] == [] and record["vaezip"]["neg_elbo_bpd"] is None


def test_binary_set_is_benched_with_the_binary_model(tiny_zoo, tmp_path):
    path = tmp_path / "bin.npz"
    np.savez(path, images=(blobs(6) > 100).astype(np.uint8))
    result = run(path, "--baselines", "png", "-k", "2", "--json", "-")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["dataset"]["mode"] == "1" and record["model"]["name"] == "tiny-bin"


def test_an_image_that_does_not_come_back_exact_fails(tiny_zoo, grey_set, monkeypatch):
    from vaezip import api

    real = api.decompress

    def corrupt(data):
        pictures = real(data)
        pictures[-1].pixels[0, 0, 0] ^= 1
        return pictures

    monkeypatch.setattr(api, "decompress", corrupt)
    result = run(grey_set, "--baselines", "none", "-k", "0")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "did not come back exact" in result.output
    assert result.output.count("\n") == 1


def test_a_set_no_model_fits_is_a_clear_error(tiny_zoo, tmp_path):
    path = tmp_path / "rgb.npz"
    np.savez(path, images=np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8))
    result = run(path, "--baselines", "none")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "8x8 mode RGB" in result.output and "tiny (8x8 mode L)" in result.output
    assert "--model none" in result.output
    result = run(path, "--model", "tiny", "--baselines", "none")
    assert result.exit_code == 1 and "codes 8x8 mode L images" in result.output
    result = run(path, "--model", "none", "--baselines", "png", "--json", "-")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["model"]["name"] == "none" and record["vaezip"]["is_bpd"] is None


@pytest.mark.parametrize("estimator", ["bb-cis", "bb-is"])
def test_particles_code_with_importance_sampling(tiny_zoo, grey_set, estimator):
    result = run(grey_set, "--particles", "3", "--estimator", estimator, "--baselines", "none", "--json", "-")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["particles"] == 3 and record["estimator"] == estimator
    assert record["vaezip"]["estimate_samples"] == 3 and record["vaezip"]["exact"]
    assert record["vaezip"]["filler_words"] >= 0
    assert f"--estimator {estimator}" in record["command"] or estimator == "bb-cis"


def test_unknown_baseline_and_dataset(tiny_zoo, tmp_path):
    assert "unknown baseline 'gif'" in run("sample", "--baselines", "png,gif").output
    result = run(tmp_path / "missing.npz")
    assert result.exit_code == 1 and "unknown dataset" in result.output


def test_plot_writes_a_png(tiny_zoo, grey_set, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "bench.png"
    result = run(grey_set, "--baselines", "png", "-k", "2", "--plot", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_one_line(tiny_zoo, grey_set, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(grey_set, "--plot", tmp_path / "bench.png")
    assert result.exit_code == 1 and "needs matplotlib" in result.output and result.output.count("\n") == 1


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "--particles" in result.output


def test_parse_baselines():
    assert bench.parse_baselines("all") == bench.BASELINES
    assert bench.parse_baselines("none") == () == bench.parse_baselines("")
    assert bench.parse_baselines(" xz,PNG,xz ") == ("xz", "png")
    with pytest.raises(bench.BenchError, match="unknown baseline"):
        bench.parse_baselines("png,bmp")


def test_mosaic_tiles_in_order_and_pads_with_zeros():
    arrays = [np.full((2, 3), i + 1, np.uint8) for i in range(5)]
    grid = bench.mosaic(arrays)
    assert grid.shape == (2 * 2, 3 * 3)
    assert grid[0, 0] == 1 and grid[0, 3] == 2 and grid[2, 0] == 4 and grid[2, 3] == 5
    assert not grid[2:, 6:].any()


@pytest.mark.parametrize("channels", [0, 2, 4])
def test_every_baseline_round_trips_or_says_why_it_is_skipped(channels):
    from vaezip.images import from_batch

    images = blobs(4)
    if channels:  # colour under fully transparent pixels must survive too (WebP needs exact=True)
        images = np.stack([images] * (channels - 1) + [(images > 128).astype(np.uint8) * 255], axis=-1)
    rows = bench.baselines(from_batch(images), bench.BASELINES, vaezip_bits=1000.0)
    assert [row["name"] for row in rows][:2] == ["png", "png"]
    for row in rows:
        assert row["status"] == "ok" or row["status"].startswith("skipped: "), row
        assert (row["bytes"] is None) == (row["status"] != "ok")


def test_streams_option_sets_the_archive_streams(tiny_zoo, grey_set):
    result = run(grey_set, "--streams", "2", "--baselines", "none", "--json", "-")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["vaezip"]["streams"] == 2 and "--streams 2" in record["command"]
