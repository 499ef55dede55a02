"""One bench run: the data set, the model, vaezip and the baselines on the same images, one record."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np

from vaezip.bench.baselines import BASELINES, baselines
from vaezip.bench.errors import BenchError
from vaezip.bench.machine import environment
from vaezip.bench.measure import measure_vaezip, own_bits
from vaezip.bench.progress import Progress, quiet

SCHEMA = "vaezip-bench/1"
DEFAULT_SAMPLES_SMALL = 100  # K for data sets of at most SMALL_SET images
DEFAULT_SAMPLES_LARGE = 16
SMALL_SET = 1000
PLOT_IMAGES = 1000  # images compressed one by one for the plot's per-image bits


def default_estimate_samples(images: int) -> int:
    """K of the importance-sampled estimate when none is given: 100 up to 1000 images, else 16."""
    return DEFAULT_SAMPLES_SMALL if images <= SMALL_SET else DEFAULT_SAMPLES_LARGE


def to_pictures(images: np.ndarray) -> list:
    """Pictures of a loaded data set; a grey uint8 set holding only 0 and 1 becomes mode ``1``."""
    from vaezip.images import from_batch

    binary = images.dtype == np.uint8 and images.ndim == 3 and int(images.max(initial=0)) <= 1
    return from_batch(images, "1" if binary else None)


def _shape_text(height: int, width: int, mode: str) -> str:
    return f"{height}x{width} mode {mode}"


def resolve_model(pictures: list, model: str | None) -> str:
    """The model bench uses: ``model`` or the one ``api.choose_model`` picks; ``"none"`` only if asked.

    Raises BenchError when no zoo model fits the images (saying which shapes
    the zoo codes and that ``--model none`` benches the model-free coder), or
    when the named model does not fit them.
    """
    from vaezip import api
    from vaezip.models import zoo

    first = pictures[0]
    here = _shape_text(first.height, first.width, first.mode)
    if model == "none":
        return model
    infos = zoo.list_models()
    if model is not None:
        info = zoo.get_info(model)
        if not api.fits(info, first):
            raise BenchError(f"model {model!r} codes {_model_shape(info)} images, these are {here}; "
                             "pick another with --model, or --model none for the model-free coder")
        return model
    name = api.choose_model(pictures)
    if name == "none":
        shapes = ", ".join(f"{info.name} ({_model_shape(info)})" for info in infos)
        zoo_text = f"the zoo has {shapes}" if shapes else f"the model zoo ({zoo.models_dir()}) is empty"
        raise BenchError(f"no model fits these images ({here}): {zoo_text}; "
                         "bench the model-free coder with --model none")
    return name


def _model_shape(info) -> str:
    mode = "1" if info.config.get("n_values") == 2 else "L"
    return _shape_text(info.config.get("height"), info.config.get("width"), mode)


def _model_record(name: str) -> dict:
    if name == "none":
        return {"name": "none", "arch": None, "sha256": None, "trained_on": None}
    from vaezip.models import zoo

    info = zoo.get_info(name)
    return {"name": name, "arch": info.arch, "sha256": info.sha256, "trained_on": info.dataset or None}


def run(spec: str = "sample", model: str | None = None, limit: int | None = None, particles: int = 1,
        estimate_samples: int | None = None, estimator: str = "bb-cis", streams: int | None = None,
        baseline_names: tuple[str, ...] = BASELINES, progress: Progress = quiet, command: str | None = None,
        per_image_bits: bool = False) -> tuple[dict, dict]:
    """Bench ``spec`` (a named split or a path): ``(record, per_image)``.

    ``record`` is the JSON of docs/bench.md; ``per_image`` holds the
    per-image achieved bits and IS estimates (for ``plot``). In the archive
    the images of one network batch share its bits equally; with
    ``per_image_bits`` the first ``PLOT_IMAGES`` images are compressed once
    more with batch size 1, so each one's achieved bits are its own. Raises
    BenchError (RoundTripError if an image does not come back exact),
    ``vaezip.datasets.DatasetError`` and the errors of ``vaezip.api``.
    """
    from vaezip.datasets import load

    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    images = load(spec)
    if limit is not None:
        images = images[:limit]
    pictures = to_pictures(images)
    name = resolve_model(pictures, model)
    if estimate_samples is not None:
        samples = estimate_samples
    else:  # with K particles the estimate to compare with is the K-sample one
        samples = particles if particles > 1 else default_estimate_samples(len(pictures))
    block, per_image = measure_vaezip(pictures, name, samples, progress, particles, estimator, streams)
    if per_image_bits and name != "none":
        per_image.update(own_bits(pictures[:PLOT_IMAGES], name, per_image, progress))
    rows = baselines(pictures, baseline_names, 8.0 * block["file_bytes"], progress)
    return _record(spec, limit, pictures, name, particles, estimator, block, rows, command, started_at,
                   started), per_image


def _record(spec, limit, pictures, name, particles, estimator, block, rows, command, started_at, started) -> dict:
    """The JSON record of docs/bench.md (the machine is read last, after every measurement)."""
    first = pictures[0]
    dims = sum(p.pixels.size for p in pictures)
    machine, versions = environment()
    return {
        "schema": SCHEMA,
        "command": command,
        "started": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "dataset": {"spec": spec, "images": len(pictures), "height": first.height, "width": first.width,
                    "channels": int(first.pixels.shape[2]), "mode": first.mode, "dims": dims,
                    "limit": limit},
        "model": _model_record(name),
        "particles": particles,
        "estimator": "bb-ans" if particles == 1 else estimator,
        "vaezip": block,
        "baselines": rows,
        "machine": machine,
        "versions": versions,
        "wall_seconds": time.perf_counter() - started,
    }
