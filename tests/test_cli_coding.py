"""The compress/decompress/info/models commands as a user meets them: files,
overwrites, bad input, and bit-exact decoding across processes and thread counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import blobs
from vaezip.cli import main
from vaezip.images import from_array, read_png, write_png


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_pngs(directory: Path, images, prefix="img") -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = directory / f"{prefix}{i:02d}.png"
        write_png(from_array(image), path)
        paths.append(path)
    return paths


@pytest.fixture
def small_vz(tiny_zoo, tmp_path) -> Path:
    (png,) = write_pngs(tmp_path / "in", blobs(1))
    result = run("compress", png, "-o", tmp_path / "one.vz", "-k", "0")
    assert result.exit_code == 0, result.output
    return tmp_path / "one.vz"


def test_single_file_round_trip_beside_the_input(tiny_zoo, tmp_path):
    (png,) = write_pngs(tmp_path, blobs(1))
    original = read_png(png)
    result = run("compress", png, "--model", "tiny", "-k", "2")
    assert result.exit_code == 0, result.output
    assert "-ELBO" in result.output and "IS(K=2)" in result.output
    vz_file = png.with_name(png.name + ".vz")
    png.unlink()
    result = run("decompress", vz_file)
    assert result.exit_code == 0, result.output
    assert read_png(png) == original


def test_directory_archive_and_json(tiny_zoo, tmp_path):
    paths = write_pngs(tmp_path / "in", blobs(6))
    result = run("compress", tmp_path / "in", "-o", tmp_path / "all.vz", "--json", "-k", "0")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["file_bytes"] == (tmp_path / "all.vz").stat().st_size
    assert len(record["pictures"]) == 6 and record["model"] in ("tiny", "tiny-fact")
    result = run("decompress", tmp_path / "all.vz", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    for path in paths:
        assert read_png(tmp_path / "out" / path.name) == read_png(path)
    info = run("info", tmp_path / "all.vz")
    assert info.exit_code == 0 and record["model"] in info.output and "6 in 1 entries" in info.output
    models = run("models")
    assert models.exit_code == 0 and "tiny-bin" in models.output
    assert "retired" not in models.output


def test_models_lists_retired_weights(tmp_path, monkeypatch):
    from conftest import make_zoo
    from vaezip.models import zoo

    directory = make_zoo(tmp_path / "zoo", names=("tiny",))
    monkeypatch.setenv(zoo.ENV_MODELS, str(directory))
    sha = zoo.retire_model("tiny").sha256
    result = run("models")
    assert result.exit_code == 0, result.output
    assert f"retired weights, kept to decode older files: tiny {sha[:12]}" in result.output


def test_never_overwrites_without_force(small_vz, tmp_path):
    png = tmp_path / "in" / "img00.png"
    before = small_vz.read_bytes()
    result = run("compress", png, "-o", small_vz)
    assert result.exit_code == 1 and "exists" in result.output and small_vz.read_bytes() == before
    assert run("compress", png, "-o", small_vz, "--force", "-k", "0").exit_code == 0
    result = run("decompress", small_vz, "-o", png)
    assert result.exit_code == 1 and "--force" in result.output


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")
def test_outputs_get_the_umask_permissions_or_keep_the_replaced_files(tiny_zoo, tmp_path):
    (png,) = write_pngs(tmp_path / "in", blobs(1))
    previous = os.umask(0o027)
    try:
        assert run("compress", png, "-o", tmp_path / "a.vz", "-k", "0").exit_code == 0
        assert (tmp_path / "a.vz").stat().st_mode & 0o777 == 0o640  # not the temporary file's 0o600
        assert run("decompress", tmp_path / "a.vz", "-o", tmp_path / "out.png").exit_code == 0
        assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o640
        (tmp_path / "a.vz").chmod(0o604)
        assert run("compress", png, "-o", tmp_path / "a.vz", "-k", "0", "--force").exit_code == 0
        assert (tmp_path / "a.vz").stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(previous)


def test_several_inputs_need_an_output_name(tiny_zoo, tmp_path):
    paths = write_pngs(tmp_path, blobs(2))
    result = run("compress", *paths)
    assert result.exit_code == 1 and "-o" in result.output


def test_bad_input_is_one_line_and_compresses_nothing(tiny_zoo, tmp_path):
    (good,) = write_pngs(tmp_path, blobs(1))
    bad = tmp_path / "notes.png"
    bad.write_text("not an image\n")
    result = run("compress", good, bad, "-o", tmp_path / "out.vz")
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and not (tmp_path / "out.vz").exists()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def check_rejected(result, target: Path):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert not target.exists()


def test_every_truncation_is_a_one_line_error_with_no_output(small_vz, tmp_path):
    data = small_vz.read_bytes()
    bad = tmp_path / "bad.vz"
    target = tmp_path / "restored.png"
    for size in range(len(data)):
        bad.write_bytes(data[:size])
        check_rejected(run("decompress", bad, "-o", target), target)


def test_every_byte_flip_is_a_one_line_error_with_no_output(small_vz, tmp_path):
    data = small_vz.read_bytes()
    bad = tmp_path / "bad.vz"
    target = tmp_path / "restored.png"
    for index in range(len(data)):
        flipped = bytearray(data)
        flipped[index] ^= 0x5A
        bad.write_bytes(bytes(flipped))
        check_rejected(run("decompress", bad, "-o", target), target)


def test_info_on_a_bad_file(small_vz, tmp_path):
    bad = tmp_path / "bad.vz"
    bad.write_bytes(small_vz.read_bytes()[:30])
    result = run("info", bad)
    assert result.exit_code == 1 and result.output.startswith("Error:")


SCRIPT = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from vaezip.cli import main
main(sys.argv[2:])
"""


def vaezip_process(threads: int, *args, env):
    return subprocess.run([sys.executable, "-c", SCRIPT, str(threads), *map(str, args)],
                          capture_output=True, text=True, env=env)


def test_bit_exact_across_processes_thread_counts_and_runs(tiny_zoo, tmp_path):
    env = dict(os.environ)
    first = write_pngs(tmp_path / "a", blobs(12, seed=3))
    more = write_pngs(tmp_path / "b", blobs(30, seed=4), prefix="more")
    # compress the same images in two processes with different torch thread counts
    one = vaezip_process(1, "compress", tmp_path / "a", "-o", tmp_path / "a1.vz", "-k", "0", env=env)
    two = vaezip_process(2, "compress", tmp_path / "a", "-o", tmp_path / "a2.vz", "-k", "0", env=env)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert (tmp_path / "a1.vz").read_bytes() == (tmp_path / "a2.vz").read_bytes()
    # a bigger archive made in the same run as another, decoded in a third process
    both = vaezip_process(2, "compress", tmp_path / "b", "-o", tmp_path / "b.vz", "-k", "0", env=env)
    assert both.returncode == 0, both.stderr
    out = vaezip_process(3, "decompress", tmp_path / "a1.vz", "-o", tmp_path / "out", env=env)
    assert out.returncode == 0, out.stderr
    for path in first:
        assert read_png(tmp_path / "out" / path.name) == read_png(path)
    out = vaezip_process(1, "decompress", tmp_path / "b.vz", "-o", tmp_path / "outb", env=env)
    assert out.returncode == 0, out.stderr
    assert all(read_png(tmp_path / "outb" / p.name) == read_png(p) for p in more)


@pytest.mark.parametrize("estimator", ["bb-cis", "bb-is"])
def test_importance_sampled_files_are_bit_exact_across_processes(tiny_zoo, tmp_path, estimator):
    env = dict(os.environ)
    files = write_pngs(tmp_path / "a", blobs(20, seed=5))
    made = [vaezip_process(threads, "compress", tmp_path / "a", "-o", tmp_path / f"{threads}.vz", "-k", "0",
                           "--particles", "5", "--estimator", estimator, "--batch-size", "3", env=env)
            for threads in (1, 2)]
    assert all(p.returncode == 0 for p in made), "".join(p.stderr for p in made)
    assert (tmp_path / "1.vz").read_bytes() == (tmp_path / "2.vz").read_bytes()
    out = vaezip_process(2, "decompress", tmp_path / "1.vz", "-o", tmp_path / "out", env=env)
    assert out.returncode == 0, out.stderr
    assert all(read_png(tmp_path / "out" / p.name) == read_png(p) for p in files)
