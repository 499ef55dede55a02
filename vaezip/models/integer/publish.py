"""Converting a zoo model and registering its integer network (``NAME-int-<sha256[:8]>.vzn``).

``publish_integer(name)`` loads the float weights, converts them on
``CALIBRATION_IMAGES`` images of the model's training set (seeded; binarized
for a binary model), writes the ``.vzn`` file beside the weights and records
``{"file", "sha256", "settings", "calibration"}`` under the entry's
``integer`` key. ``vaezip train`` calls it when a run ends; for the shipped
models ``scripts/convert_models.py`` does, and measures the result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from vaezip.models import zoo
from vaezip.models.integer import netfile
from vaezip.models.integer.convert import convert
from vaezip.models.integer.quantize import Settings

CALIBRATION_IMAGES = 1000
CALIBRATION_SEED = 0


def calibration_images(dataset: str, n_values: int, count: int = CALIBRATION_IMAGES,
                       seed: int = CALIBRATION_SEED) -> np.ndarray:
    """``count`` images of ``dataset`` drawn with ``seed`` (binarized with it for a binary model)."""
    from vaezip import datasets

    images = datasets.load(dataset)
    picked = images[np.sort(np.random.default_rng(seed).choice(len(images), min(count, len(images)), replace=False))]
    if n_values == 2 and picked.max() > 1:
        picked = datasets.binarize(picked.astype(np.uint8), seed)
    return picked


def write_netfile(data: bytes, name: str, directory: Path) -> tuple[Path, str]:
    """Write an integer network as ``NAME-int-<sha256[:8]>.vzn``; returns (path, full sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}-int-", suffix=".vzn")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    path = directory / f"{name}-int-{digest[:8]}.vzn"
    os.replace(temporary, path)
    return path, digest


def publish_integer(name: str, settings: Settings | None = None, directory: Path | None = None,
                    images: np.ndarray | None = None, dataset: str | None = None) -> zoo.ModelInfo:
    """Convert model ``name``, write its ``.vzn`` file and register it; returns the updated entry."""
    directory = directory or zoo.models_dir()
    info = zoo.get_info(name, directory)
    settings = settings or Settings()
    dataset = dataset or info.dataset
    if images is None:
        images = calibration_images(dataset, info.config.get("n_values", 256))
    model = convert(zoo.load_model(name, directory, info=info), images, settings)
    path, digest = write_netfile(netfile.dumps(model), name, directory)
    record = {"file": path.name, "sha256": digest, "settings": _settings_dict(settings),
              "calibration": {"dataset": dataset, "images": int(len(images)), "seed": CALIBRATION_SEED}}
    updated = dataclasses.replace(info, integer={**record, "rates": {}})
    if info.integer_sha256 and info.integer_sha256 != digest:
        zoo.retire_model(name, directory)  # files written with the old integer network still decode
    zoo.register_model(updated, directory)
    return updated


def _settings_dict(settings: Settings) -> dict:
    out = dataclasses.asdict(settings)
    out["groups"] = {str(k): v for k, v in settings.groups.items()}
    return out


def settings_from(record: dict) -> Settings:
    """The ``Settings`` an entry's ``integer`` record was converted with."""
    values = dict(record.get("settings", {}))
    values["groups"] = {int(k): v for k, v in values.get("groups", {}).items()}
    return Settings(**values)


def measure_integer(info: zoo.ModelInfo, images: np.ndarray, samples: int, seed: int = 0,
                    directory: Path | None = None) -> zoo.ModelInfo:
    """Both networks' −ELBO and importance-sampled estimate on ``images`` (float64, one seed), stored
    as the entry's ``integer.rates``; returns the updated entry."""
    from vaezip.models import density
    from vaezip.models.integer.adapter import IntegerDensityModel

    float_model = zoo.load_model(info.name, directory, info=info)
    integer = IntegerDensityModel(zoo.load_integer(info.name, directory, info=info), float_model)
    exact = density.estimate(integer, images, n_samples=samples, seed=seed)
    reference = density.estimate(float_model, images, n_samples=samples, seed=seed)
    rates = {"test_images": int(len(images)), "importance_samples": samples, "seed": seed,
             "test_neg_elbo_bpd": exact.neg_elbo_bpd, "test_is_bpd": exact.is_bpd,
             "float_test_neg_elbo_bpd": reference.neg_elbo_bpd, "float_test_is_bpd": reference.is_bpd,
             "neg_elbo_change": exact.neg_elbo_bpd / reference.neg_elbo_bpd - 1}
    updated = dataclasses.replace(info, integer={**info.integer, "rates": rates})
    zoo.register_model(updated, directory)
    return updated


CARD_BEGIN, CARD_END = "<!-- integer network -->", "<!-- /integer network -->"


def card_section(info: zoo.ModelInfo, command: str) -> str:
    """The model card's "Integer network" section (the entry's ``integer`` record)."""
    i, r = info.integer, info.integer.get("rates", {})
    lines = [CARD_BEGIN, "## Integer network (what format version 3 codes with)",
             f"- file: `{i['file']}`", f"- sha256: `{i['sha256']}`",
             f"- converted from the weights above on {i['calibration']['images']} `{i['calibration']['dataset']}` "
             f"images (seed {i['calibration']['seed']}): {i['settings']['act_bits']}-bit activations, per-channel "
             f"power-of-two scales, bias correction, float32 sums in {i['settings'].get('default_groups', 1)} "
             "group(s) of input channels", f"- command: `{command}`"]
    if r:
        lines += ["", "| network | −ELBO | importance-sampled −log q(x) | K | images |", "|---|---|---|---|---|",
                  f"| float (float64) | {r['float_test_neg_elbo_bpd']:.4f} | {r['float_test_is_bpd']:.4f} | "
                  f"{r['importance_samples']} | {r['test_images']:,} |",
                  f"| integer | {r['test_neg_elbo_bpd']:.4f} ({100 * r['neg_elbo_change']:+.3f} %) | "
                  f"{r['test_is_bpd']:.4f} | {r['importance_samples']} | {r['test_images']:,} |"]
    return "\n".join(lines + [CARD_END])


def write_card_section(path: Path, info: zoo.ModelInfo, command: str) -> None:
    """Put (or replace) the integer network's section in the card at ``path``."""
    text = path.read_text() if path.exists() else f"# {info.name}\n"
    pattern = re.compile(re.escape(CARD_BEGIN) + ".*?" + re.escape(CARD_END), re.S)
    section = card_section(info, command)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
