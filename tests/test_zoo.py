"""The model zoo: registry round trip, sha256 verification, clear errors."""

import json
import subprocess
import sys

import pytest
import torch

from vaezip.models import vae, zoo

torch.set_num_threads(1)


def register_tiny(directory, name="tiny"):
    """A tiny registered model in ``directory``; returns (model, info)."""
    torch.manual_seed(0)
    model = vae.build_model("logistic-ar", height=8, width=8, channels=4, head_hidden=4,
                            latent_dim=3)
    path = directory / f"{name}.pt"
    torch.save(model.state_dict(), path)
    info = zoo.ModelInfo(name=name, arch="logistic-ar", config=model.config.to_dict(),
                         file=path.name, sha256=zoo.sha256_file(path), dataset="synthetic",
                         rates={"test_neg_elbo_bpd": 8.0})
    zoo.register_model(info, directory)
    return model, info


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_MODELS, str(tmp_path))
    return tmp_path


def test_models_dir_follows_the_environment(models, monkeypatch):
    assert zoo.models_dir() == models
    monkeypatch.delenv(zoo.ENV_MODELS)
    assert zoo.models_dir().name == "models"
    assert (zoo.models_dir().parent / "vaezip").is_dir()


def test_round_trip_loads_float64_weights(models):
    model, info = register_tiny(models)
    loaded = zoo.load_model("tiny")
    assert loaded.dtype == torch.float64 and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value.double())
    assert zoo.get_info("tiny") == info
    data = json.loads((models / zoo.REGISTRY_NAME).read_text())
    assert data["models"]["tiny"]["sha256"] == info.sha256 and len(info.sha256) == 64


def test_list_models_is_sorted(models):
    assert zoo.list_models() == []
    register_tiny(models, "b")
    register_tiny(models, "a")
    assert [info.name for info in zoo.list_models()] == ["a", "b"]
    assert zoo.list_models()[0].input_shape == (8, 8)


def test_a_tampered_weight_file_is_refused(models):
    _, info = register_tiny(models)
    path = models / info.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.ModelError, match="'tiny'.*sha256"):
        zoo.load_model("tiny")


def test_a_missing_weight_file_is_refused(models):
    _, info = register_tiny(models)
    (models / info.file).unlink()
    with pytest.raises(zoo.ModelError, match="'tiny'.*missing"):
        zoo.load_model("tiny")


def test_unknown_model_names_the_known_ones(models):
    register_tiny(models)
    with pytest.raises(zoo.ModelError, match="'nope'.*tiny"):
        zoo.load_model("nope")


def test_weights_that_do_not_fit_the_config_are_refused(models):
    _, info = register_tiny(models)
    bad = zoo.ModelInfo(**{**info.to_dict(), "name": "tiny",
                           "config": {**info.config, "channels": 8}})
    zoo.register_model(bad, models)
    with pytest.raises(zoo.ModelError, match="'tiny': cannot load"):
        zoo.load_model("tiny")


def test_a_corrupt_registry_is_a_model_error(models):
    (models / zoo.REGISTRY_NAME).write_text("{not json")
    with pytest.raises(zoo.ModelError, match="registry"):
        zoo.list_models()


def test_importing_the_zoo_does_not_import_torch():
    code = "import sys, vaezip.models.zoo; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
