"""The model zoo: a registry of trained weights, verified on every load.

The registry is one JSON file, ``zoo.json``, in the models directory::

    {"version": 1,
     "models": {"mnist": {"arch": "logistic-ar", "config": {...},
                          "file": "mnist-1a2b3c4d.pt", "sha256": "<64 hex>",
                          "dataset": "mnist-train", "rates": {...}}}}

``rates`` holds measured figures in bits per dimension (for example
``test_neg_elbo_bpd`` and ``test_is_bpd`` with ``importance_samples``).

A retrained model keeps its old weights for decoding: ``retire_model(name)``
moves the current entry to ``"retired": {"mnist": [{...}, ...]}`` (the same
fields, its weight file left in place) before the new one is registered.
Retired weights are never chosen for compressing, never listed by
``list_models``; ``find_weights`` returns them for a file whose header names
them (``vaezip.api`` decodes with whatever weights wrote the file, and
refuses a file whose weights are in neither place).

The models directory is ``$VAEZIP_MODELS`` if set, else ``models/`` next to
the ``vaezip`` package (an editable install or a checkout). ``load_model``
checks the full sha256 of the weight file before ``torch.load(weights_only=
True)`` reads it. Importing this module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY_NAME = "zoo.json"
REGISTRY_VERSION = 1
ENV_MODELS = "VAEZIP_MODELS"


class ModelError(Exception):
    """A model that cannot be found, verified or loaded."""


@dataclass(frozen=True)
class ModelInfo:
    """One registry entry."""

    name: str
    arch: str
    config: dict
    file: str
    sha256: str
    dataset: str = ""
    rates: dict = field(default_factory=dict)
    integer: dict = field(default_factory=dict)  # {"file", "sha256", "settings", "rates"}: the exact network

    def to_dict(self) -> dict:
        out = {"arch": self.arch, "config": self.config, "file": self.file,
               "sha256": self.sha256, "dataset": self.dataset, "rates": self.rates}
        if self.integer:
            out["integer"] = self.integer
        return out

    @property
    def integer_sha256(self) -> str:
        """The sha256 of the integer network file (what version-3 files name), or ""."""
        return self.integer.get("sha256", "")

    @property
    def input_shape(self) -> tuple[int, int]:
        return (self.config.get("height", 0), self.config.get("width", 0))


def models_dir() -> Path:
    """Where weight files and ``zoo.json`` live."""
    env = os.environ.get(ENV_MODELS)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"  # vaezip/models/zoo.py -> the checkout's models/


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(directory: Path | None) -> tuple[dict[str, ModelInfo], dict[str, list[ModelInfo]]]:
    path = (directory or models_dir()) / REGISTRY_NAME
    if not path.exists():
        return {}, {}
    try:
        data = json.loads(path.read_text())
        models = {name: ModelInfo(name=name, **entry) for name, entry in data["models"].items()}
        retired = {name: [ModelInfo(name=name, **entry) for entry in entries]
                   for name, entries in data.get("retired", {}).items()}
        return models, retired
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"unreadable model registry {path}: {error}") from None


def read_registry(directory: Path | None = None) -> dict[str, ModelInfo]:
    """All registered (current) models by name; empty if there is no registry yet."""
    return _read(directory)[0]


def read_retired(directory: Path | None = None) -> dict[str, list[ModelInfo]]:
    """Retired weights by model name, oldest first; kept only to decode older files."""
    return _read(directory)[1]


def write_registry(models: dict[str, ModelInfo], directory: Path | None = None,
                   retired: dict[str, list[ModelInfo]] | None = None) -> Path:
    """Write the registry atomically (temporary file, then rename).

    ``retired`` None keeps the retired entries already on disk.
    """
    directory = directory or models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if retired is None:
        retired = read_retired(directory)
    data = {"version": REGISTRY_VERSION,
            "models": {name: models[name].to_dict() for name in sorted(models)}}
    if any(retired.values()):
        data["retired"] = {name: [info.to_dict() for info in retired[name]]
                           for name in sorted(retired) if retired[name]}
    path = directory / REGISTRY_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".zoo-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)
    return path


def register_model(info: ModelInfo, directory: Path | None = None) -> Path:
    """Add or replace one entry in the registry; returns the registry path."""
    models = read_registry(directory)
    models[info.name] = info
    return write_registry(models, directory)


def retire_model(name: str, directory: Path | None = None) -> ModelInfo:
    """Move the current entry of ``name`` to the retired ones (its weight file stays).

    Call it before registering retrained weights under the same name, so
    files written with the old weights still decode. Returns the entry.
    """
    models, retired = _read(directory)
    if name not in models:
        raise ModelError(f"unknown model {name!r}: nothing to retire")
    info = models.pop(name)
    key = (info.sha256, info.integer_sha256)
    if all((old.sha256, old.integer_sha256) != key for old in retired.get(name, [])):
        retired.setdefault(name, []).append(info)
    write_registry(models, directory, retired)
    return info


def find_weights(name: str, matches, directory: Path | None = None, integer: bool = False) -> ModelInfo:
    """The entry of model ``name`` whose sha256 (hex; ``integer``: of its integer network)
    satisfies ``matches``: the current weights first, then the retired ones. ModelError if the
    name is unknown (current or retired) or no weights of that name match."""
    models, retired = _read(directory)
    candidates = ([models[name]] if name in models else []) + list(reversed(retired.get(name, [])))
    if not candidates:
        known = ", ".join(sorted(models)) or "none"
        raise ModelError(f"unknown model {name!r} (registered: {known})")
    for info in candidates:
        sha256 = info.integer_sha256 if integer else info.sha256
        if sha256 and matches(sha256):
            return info
    kept = ", ".join((info.integer_sha256 if integer else info.sha256)[:12] or "none" for info in candidates)
    raise ModelError(f"no weights of model {name!r} match (kept: {kept})")


def list_models(directory: Path | None = None) -> list[ModelInfo]:
    """Registered models, sorted by name."""
    models = read_registry(directory)
    return [models[name] for name in sorted(models)]


def get_info(name: str, directory: Path | None = None) -> ModelInfo:
    """The registry entry of ``name``, or ModelError listing the known names."""
    models = read_registry(directory)
    if name not in models:
        known = ", ".join(sorted(models)) or "none"
        raise ModelError(f"unknown model {name!r} (registered: {known})")
    return models[name]


def verified_path(info: ModelInfo, directory: Path | None = None, integer: bool = False) -> Path:
    """The weight file of ``info`` (``integer``: its integer network file) after checking its full sha256."""
    file, expected = (info.integer.get("file"), info.integer_sha256) if integer else (info.file, info.sha256)
    if not file:
        raise ModelError(f"model {info.name!r} has no integer network: convert it (docs/models.md)")
    path = (directory or models_dir()) / file
    if not path.is_file():
        raise ModelError(f"model {info.name!r}: weight file {path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(
            f"model {info.name!r}: weight file {path} has sha256 {actual[:16]}..., "
            f"expected {expected[:16]}...; the file is corrupt or was replaced")
    return path


def load_integer(name: str, directory: Path | None = None, info: ModelInfo | None = None):
    """The verified integer network of model ``name`` (``vaezip.models.integer.IntegerModel``).

    ModelError for an unknown name, a model without one, a missing file, a sha256 mismatch,
    or a file that does not read or is not exact (``IntegerModel.check``).
    """
    from vaezip.models.integer import netfile

    info = info or get_info(name, directory)
    path = verified_path(info, directory, integer=True)
    try:
        model = netfile.read(path)
    except (netfile.NetFileError, netfile.ProgramError, OSError) as error:
        raise ModelError(f"model {name!r}: cannot load {path.name}: {error}") from None
    if model.config.to_dict() != info.config:
        raise ModelError(f"model {name!r}: {path.name} is a network of another configuration")
    return model


def load_model(name: str, directory: Path | None = None, dtype=None, info: ModelInfo | None = None):
    """The verified model ``name``, in eval mode, float64 unless ``dtype`` given.

    ``info`` (from ``find_weights``) loads those weights instead of the
    current entry of ``name``. Raises ModelError (naming the model) for an
    unknown name, a missing file, a sha256 mismatch or weights that do not
    fit the architecture.
    """
    import torch

    from vaezip.models.config import ModelConfigError
    from vaezip.models.vae import model_from_config

    if info is None:
        info = get_info(name, directory)
    path = verified_path(info, directory)
    try:
        model = model_from_config(info.config)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (ModelConfigError, RuntimeError, ValueError, OSError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"model {name!r}: cannot load {path.name}: {first_line}") from None
    model.to(dtype or torch.float64)
    model.eval()
    return model
