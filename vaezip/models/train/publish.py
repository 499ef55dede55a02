"""Publishing a trained model: its test rates, its weight file, registry entry, card and README row;
and the zoo weights a run starts from (``--init``)."""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vaezip.models import density, zoo
from vaezip.models.train.card import model_card, readme_row, update_readme
from vaezip.models.train.data import as_targets
from vaezip.models.train.options import TrainError, TrainOptions, TrainState
from vaezip.models.vae import VAE, count_parameters


def measure(model: VAE, images: np.ndarray, options: TrainOptions) -> density.DensityEstimate:
    """Test rates of the model, seeded, in float32 (four times faster than float64 on
    this CPU; an estimate needs no bit-exactness, and the float32 error is far below
    the sampling noise of the estimate)."""
    targets = as_targets(images, model.config.n_values, options.seed + 2)
    model32 = copy.deepcopy(model).float().eval()
    bar = tqdm(total=targets.shape[0], desc="measuring", unit="image", leave=False)
    result = density.estimate(model32, targets, n_samples=options.importance_samples,
                              batch_size=32, seed=options.seed, progress=bar.update)
    bar.close()
    return result


def save_weights(weights: dict, name: str, directory: Path) -> tuple[Path, str]:
    """Write a state_dict as ``NAME-<sha256[:8]>.pt``; returns (path, full sha256)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}-", suffix=".pt")
    os.close(handle)
    torch.save({key: value.detach().clone() for key, value in weights.items()}, temporary)
    digest = zoo.sha256_file(Path(temporary))
    path = directory / f"{name}-{digest[:8]}.pt"
    os.replace(temporary, path)
    return path, digest


def publish(model: VAE, options: TrainOptions, state: TrainState, result,
            test_split: str, split: dict) -> zoo.ModelInfo:
    """Weights, registry entry, card and README row for the trained model."""
    directory = options.models_dir or zoo.models_dir()
    old = zoo.read_registry(directory).get(options.name)
    path, digest = save_weights(model.state_dict(), options.name, directory)
    rates = {"test_neg_elbo_bpd": result.neg_elbo_bpd, "test_is_bpd": result.is_bpd,
             "importance_samples": result.n_samples, "test_split": test_split,
             "test_images": int(result.is_bits.size), "val_neg_elbo_bpd": state.best_val_bpd}
    info = zoo.ModelInfo(name=options.name, arch=options.arch,
                         config=model.config.to_dict(), file=path.name, sha256=digest,
                         dataset=options.dataset, rates=rates)
    zoo.register_model(info, directory)
    kept = {entry.file for entries in zoo.read_retired(directory).values() for entry in entries}
    if old is not None and old.file != info.file and old.file not in kept:
        (directory / old.file).unlink(missing_ok=True)  # replaced with --force, not retired
    n_params = count_parameters(model)
    (directory / f"{options.name}.md").write_text(model_card(info, options, state, n_params, split))
    update_readme(directory, options.name, readme_row(info, n_params))
    return info


def init_weights(spec: str, directory: Path | None = None) -> zoo.ModelInfo:
    """The zoo entry ``--init`` names: ``MODEL`` (current weights) or ``MODEL@PREFIX`` (current or retired)."""
    name, _, prefix = spec.partition("@")
    if not prefix:
        return zoo.get_info(name, directory)
    if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
        raise TrainError(f"--init {spec!r}: after '@' give at least 4 hex digits of the weights' sha256")
    return zoo.find_weights(name, lambda sha256: sha256.startswith(prefix), directory)


def initialize(model: VAE, spec: str, directory: Path | None = None) -> zoo.ModelInfo:
    """Load the ``--init`` weights into ``model`` (float32), after checking both configs agree."""
    info = init_weights(spec, directory)
    if info.config != model.config.to_dict():
        differ = sorted(k for k in set(info.config) | set(model.config.to_dict())
                        if info.config.get(k) != model.config.to_dict().get(k))
        raise TrainError(f"--init {spec!r}: its config differs from this run's in {', '.join(differ)}")
    source = zoo.load_model(info.name, directory, dtype=torch.float32, info=info)
    model.load_state_dict(source.state_dict())
    return info


def publish_integer_network(options: TrainOptions, train_images: np.ndarray, test_images: np.ndarray,
                            n_values: int) -> zoo.ModelInfo:
    """The trained model's integer network (what version-3 files code with): converted on up to
    1,000 training images, measured beside the float network on the test images, registered, and
    described in a section of the card."""
    from vaezip.models.integer.publish import CALIBRATION_IMAGES, measure_integer, publish_integer, write_card_section

    directory = options.models_dir or zoo.models_dir()
    rng = np.random.default_rng(options.seed)
    picked = np.sort(rng.choice(len(train_images), min(CALIBRATION_IMAGES, len(train_images)), replace=False))
    calibration = as_targets(train_images[picked], n_values, options.seed + 1).numpy()
    info = publish_integer(options.name, directory=directory, images=calibration, dataset=options.dataset)
    targets = as_targets(test_images, n_values, options.seed + 2).numpy()
    info = measure_integer(info, targets, options.importance_samples, options.seed, directory)
    write_card_section(directory / f"{options.name}.md", info,
                       "the conversion that ends `vaezip train` (the command above)")
    return info
