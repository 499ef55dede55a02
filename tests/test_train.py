"""``vaezip train`` end to end on tiny synthetic data, into temporary folders."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vaezip.models import train as training
from vaezip.models.train import loop, pipeline
from vaezip.models import zoo
from vaezip.cli import main

torch.set_num_threads(1)

TINY = ["--set", "channels=4", "--set", "head_hidden=4", "--latent-dim", "3",
        "--batch-size", "16", "-k", "4", "--threads", "1"]


def synthetic(spec: str) -> np.ndarray:
    """8x8 blobs: 8-bit for 'blobs-*', 0/1 for 'bits-*'."""
    seed = {"train": 0, "test": 1}[spec.rsplit("-", 1)[1]]
    rng = np.random.default_rng(seed)
    count = 64 if spec.endswith("train") else 16
    grid = np.arange(8)
    centres = rng.uniform(2, 6, (count, 2))
    distance = (grid[None, :, None] - centres[:, 0, None, None]) ** 2 \
        + (grid[None, None, :] - centres[:, 1, None, None]) ** 2
    images = (255 * np.exp(-distance / 4)).astype(np.uint8)
    return (images > 127).astype(np.uint8) if spec.startswith("bits") else images


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_MODELS, str(tmp_path / "models"))
    monkeypatch.setattr(pipeline, "load_images", synthetic)
    return tmp_path


def run(workdir, *args):
    arguments = ["train", *args, "--checkpoint-dir", str(workdir / "checkpoints")]
    return CliRunner().invoke(main, arguments, catch_exceptions=False)


def test_train_writes_weights_registry_card_and_readme(workdir):
    result = run(workdir, "blobs-train", "--arch", "logistic-ar", "-o", "blob",
                 "--epochs", "2", *TINY)
    assert result.exit_code == 0, result.output
    models = workdir / "models"
    info = zoo.get_info("blob")
    assert info.file.startswith("blob-") and info.file == f"blob-{info.sha256[:8]}.pt"
    assert zoo.sha256_file(models / info.file) == info.sha256
    assert info.dataset == "blobs-train" and info.arch == "logistic-ar"
    rates = info.rates
    assert rates["test_split"] == "`blobs-test`" and rates["test_images"] == 16
    assert rates["importance_samples"] == 4
    assert 0 < rates["test_is_bpd"] < 9 and 0 < rates["test_neg_elbo_bpd"] < 9
    state = torch.load(models / info.file, weights_only=True)
    assert "head.conv.weight" in state
    model = zoo.load_model("blob")
    assert model.config.height == 8 and model.dtype == torch.float64
    card = (models / "blob.md").read_text()
    for text in ("blobs-train", "vaezip train blobs-train --arch logistic-ar -o blob --epochs 2",
                 "epochs: 2", "wall time", "parameters", info.sha256, "| 4 |"):
        assert text in card
    readme = (models / "README.md").read_text()
    assert readme.count("| blob |") == 1 and info.file in readme
    header = next(line for line in readme.splitlines() if line.startswith("| name |"))
    row = next(line for line in readme.splitlines() if line.startswith("| blob |"))
    assert row.count(" | ") == header.count(" | ")  # the columns scripts/measure_models.py writes
    assert (workdir / "checkpoints" / "blob" / "last.pt").exists()
    assert "importance-sampled" in result.output


@pytest.mark.parametrize("arch,data", [("logistic-ar", "blobs"), ("bernoulli-ar", "blobs")])
def test_train_ends_with_an_integer_network_that_codes_exactly(workdir, arch, data):
    from vaezip import api
    from vaezip.bench import to_pictures

    result = run(workdir, f"{data}-train", "--arch", arch, "-o", "exact", "--epochs", "1", *TINY)
    assert result.exit_code == 0, result.output
    info = zoo.get_info("exact")
    integer = info.integer
    assert integer["file"] == f"exact-int-{integer['sha256'][:8]}.vzn"
    assert zoo.sha256_file(workdir / "models" / integer["file"]) == integer["sha256"]
    rates = integer["rates"]
    assert rates["test_images"] == 16 and rates["importance_samples"] == 4
    assert abs(rates["neg_elbo_change"]) < 0.05 and rates["float_test_neg_elbo_bpd"] > 0
    zoo.load_integer("exact").check()
    card = (workdir / "models" / "exact.md").read_text()
    assert "## Integer network" in card and integer["sha256"] in card
    images = synthetic(f"{data}-test")
    if info.config["n_values"] == 2:
        images = (images > 127).astype(np.uint8)
    coded, _ = api.compress(to_pictures(images), model="exact")
    assert all(np.array_equal(p.pixels[:, :, 0], im) for p, im in zip(api.decompress(coded), images))


def test_resume_continues_from_the_checkpoint(workdir):
    assert run(workdir, "blobs-train", "--arch", "logistic", "-o", "r", "--epochs", "1",
               *TINY).exit_code == 0
    result = run(workdir, "blobs-train", "--arch", "logistic", "-o", "r", "--epochs", "2",
                 "--resume", "--force", *TINY)
    assert result.exit_code == 0, result.output
    card = (workdir / "models" / "r.md").read_text()
    assert "epochs: 2" in card and "| 2 |" in card
    assert len(list((workdir / "models").glob("r-*.pt"))) == 1  # the old file is replaced
    assert (workdir / "models" / "README.md").read_text().count("| r |") == 1


def test_init_starts_from_zoo_weights_current_or_retired(workdir):
    assert run(workdir, "blobs-train", "--arch", "logistic", "-o", "a", "--epochs", "1", *TINY).exit_code == 0
    first = zoo.get_info("a")
    fresh_card = (workdir / "models" / "a.md").read_text()
    zoo.retire_model("a")
    result = run(workdir, "blobs-train", "--arch", "logistic", "-o", "a", "--epochs", "1",
                 "--init", f"a@{first.sha256[:8]}", *TINY)
    assert result.exit_code == 0, result.output
    second = zoo.get_info("a")
    assert second.sha256 != first.sha256
    assert (workdir / "models" / first.file).is_file()  # retired weights keep their file
    card = (workdir / "models" / "a.md").read_text()
    assert f"started from the weights of `a` (sha256 {first.sha256[:12]})" in card
    assert f"--init a@{first.sha256[:8]}" in card
    # an epoch that starts from trained weights averages a lower training loss than the fresh first epoch
    def first_epoch_train_bpd(text):
        return float(text.split("\n| 1 | ", 1)[1].split(" |", 1)[0])

    assert first_epoch_train_bpd(card) < first_epoch_train_bpd(fresh_card)
    bad = run(workdir, "blobs-train", "--arch", "logistic", "-o", "b", "--epochs", "1",
              "--init", "a", *TINY[:2], "--set", "channels=5", *TINY[2:])
    assert bad.exit_code == 1 and "config differs" in bad.output and "channels" in bad.output
    missing = run(workdir, "blobs-train", "--arch", "logistic", "-o", "b", "--epochs", "1",
                  "--init", "a@ffff", *TINY)
    assert missing.exit_code == 1 and "no weights of model 'a' match" in missing.output


def test_resume_refuses_a_different_run(workdir):
    assert run(workdir, "blobs-train", "--arch", "logistic", "-o", "r", "--epochs", "1",
               *TINY).exit_code == 0
    result = run(workdir, "blobs-train", "--arch", "logistic", "-o", "r", "--epochs", "2",
                 "--resume", "--force", "--seed", "5", *TINY)
    assert result.exit_code == 1 and "seed" in result.output


def test_bernoulli_binarizes_8_bit_data_and_accepts_binary_data(workdir):
    result = run(workdir, "blobs-train", "--arch", "bernoulli-ar", "-o", "b8", "--epochs", "1",
                 *TINY)
    assert result.exit_code == 0, result.output
    assert "binarized dynamically" in (workdir / "models" / "b8.md").read_text()
    result = run(workdir, "bits-train", "--arch", "bernoulli", "-o", "b1", "--epochs", "1", *TINY)
    assert result.exit_code == 0, result.output
    assert zoo.get_info("b1").rates["test_neg_elbo_bpd"] < 2


def test_errors_are_one_line(workdir):
    ok = run(workdir, "bits-train", "--arch", "bernoulli", "-o", "x", "--epochs", "1", *TINY)
    assert ok.exit_code == 0
    cases = [
        (["bits-train", "--arch", "bernoulli", "-o", "x"], "already registered"),
        (["bits-train", "--arch", "resnet", "-o", "y"], "unknown arch"),
        (["bits-train", "--arch", "bernoulli", "-o", "../y"], "model name"),
        (["bits-train", "--arch", "bernoulli", "-o", "y", "--set", "colour=1"], "override"),
        (["bits-train", "--arch", "bernoulli", "-o", "y", "--resume"], "no checkpoint"),
        (["bits-train", "--arch", "bernoulli", "-o", "y", "--val-fraction", "1.5"], "val-fraction"),
    ]
    for arguments, message in cases:
        result = run(workdir, *arguments)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error:") and message in result.output
        assert result.output.count("\n") == 1


def test_early_stopping(workdir, monkeypatch):
    scores = iter([5.0, 4.0, 4.5, 4.6, 4.7, 4.8])
    monkeypatch.setattr(loop, "validation_bpd", lambda *args: next(scores))
    result = run(workdir, "bits-train", "--arch", "bernoulli", "-o", "e", "--epochs", "6",
                 "--patience", "2", *TINY)
    assert result.exit_code == 0, result.output
    card = (workdir / "models" / "e.md").read_text()
    assert "epochs: 4 (best validation −ELBO 4.0000 bpd)" in card


def test_validation_split_is_seeded_and_disjoint():
    images = np.arange(100).reshape(100, 1, 1)
    train_a, val_a = training.split_validation(images, 0.2, seed=1)
    train_b, val_b = training.split_validation(images, 0.2, seed=1)
    assert np.array_equal(val_a, val_b) and len(val_a) == 20 and len(train_a) == 80
    assert not set(val_a.ravel()) & set(train_a.ravel())
    assert not np.array_equal(val_a, training.split_validation(images, 0.2, seed=2)[1])


def test_default_test_split():
    assert training.default_test_spec("mnist-bin-train") == "mnist-bin-test"
    assert training.default_test_spec("images.npz") is None


def test_help_has_an_example_and_the_group_stays_light():
    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    code = ("import sys; from click.testing import CliRunner; from vaezip.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert 'train' in r.output; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
