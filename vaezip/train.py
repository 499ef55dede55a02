"""Train a VAE and add it to the model zoo.

``train(options)`` runs the whole pipeline:

1. load the dataset (``vaezip.datasets.load``) and carve a validation split
   from it with the seed;
2. train in float32 with Adam, one checkpoint per epoch in
   ``checkpoints/NAME/`` (``last.pt``; ``--resume`` continues from it),
   early stopping when the validation −ELBO has not improved for
   ``patience`` epochs;
3. measure the best weights in float32 on the test split: −ELBO and the
   importance-sampled −log q(x) in bits per dimension;
4. write ``models/NAME-<sha256[:8]>.pt`` (a state_dict), register it in
   ``models/zoo.json``, write the model card ``models/NAME.md`` and a row in
   ``models/README.md``.

A Bernoulli arch trained on 8-bit images binarizes them dynamically: every
epoch draws fresh bits with P(1) = v / 255; validation and test images are
binarized once, with the seed.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vaezip import density, zoo
from vaezip.vae import VAE, ModelConfigError, count_parameters, make_config

LOG_2 = math.log(2.0)
README_HEADER = (
    "# vaezip model zoo\n\n"
    "Weights are registered in `zoo.json` (name, arch, config, file, full sha256) and\n"
    "verified on every load. Each model has a card `NAME.md`. Rates are measured on\n"
    "the test split by `vaezip.density`, in bits per dimension.\n\n"
    "| name | arch | data (train → test) | test −ELBO bpd (all) | IS bpd (K, images) "
    "| −ELBO bpd, same images | params | file | sha256 |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
)


class TrainError(Exception):
    """A training run that cannot start or finish; the message says why."""


@dataclass
class TrainOptions:
    """What ``vaezip train`` was asked to do."""

    dataset: str
    arch: str
    name: str
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    latent_dim: int | None = None
    resume: bool = False
    val_fraction: float = 0.1
    patience: int = 5
    threads: int = 1
    test: str | None = None  # None: DATASET with -train replaced by -test
    importance_samples: int = 100
    overrides: dict = field(default_factory=dict)
    time_limit_minutes: float | None = None
    checkpoint_dir: Path = Path("checkpoints")
    models_dir: Path | None = None
    force: bool = False
    init: str | None = None  # MODEL or MODEL@SHA256PREFIX: start from these zoo weights
    init_sha256: str = ""  # filled in by ``train``: the full sha256 of the ``init`` weights
    command: str = ""


@dataclass
class TrainState:
    """What a checkpoint holds besides the weights."""

    epoch: int = 0  # epochs completed
    best_val_bpd: float = math.inf
    bad_epochs: int = 0
    elapsed_s: float = 0.0
    history: list = field(default_factory=list)


# ------------------------------------------------------------- data


def load_images(spec: str) -> np.ndarray:
    """Images (N, H, W) uint8 of a dataset spec, through vaezip.datasets."""
    try:
        from vaezip import datasets
    except ImportError as error:
        raise TrainError(f"vaezip.datasets is not available: {error}") from None
    try:
        images = datasets.load(spec)
    except datasets.DatasetError as error:
        raise TrainError(f"dataset {spec!r}: {error}") from None
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[0] == 0:
        raise TrainError(f"dataset {spec!r}: expected images (N, H, W), got shape {images.shape}")
    return images


def default_test_spec(dataset: str) -> str | None:
    """``X-train`` -> ``X-test``; None when the name has no -train suffix."""
    return dataset[: -len("-train")] + "-test" if dataset.endswith("-train") else None


def split_validation(images: np.ndarray, fraction: float, seed: int):
    """(train, validation): a seeded random ``fraction`` of the images is held out."""
    if not 0.0 < fraction < 1.0:
        raise TrainError("--val-fraction must lie strictly between 0 and 1")
    order = np.random.default_rng(seed).permutation(images.shape[0])
    n_val = max(1, int(round(fraction * images.shape[0])))
    if n_val >= images.shape[0]:
        raise TrainError(f"{images.shape[0]} images are too few to hold out a validation split")
    return images[order[n_val:]], images[order[:n_val]]


def needs_binarizing(images: np.ndarray, n_values: int) -> bool:
    """True when a 2-valued model meets 8-bit images (dynamic binarization)."""
    return n_values == 2 and int(images.max()) > 1


def binarize(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Bits with P(1) = v / 255."""
    probabilities = images.to(torch.float32) / 255.0
    return (torch.rand(probabilities.shape, generator=generator) < probabilities).to(torch.uint8)


def as_targets(images: np.ndarray, n_values: int, seed: int) -> torch.Tensor:
    """Fixed evaluation images: binarized once with ``seed`` if needed, checked."""
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    if needs_binarizing(images, n_values):
        tensor = binarize(tensor, torch.Generator().manual_seed(seed))
    elif int(images.max()) >= n_values:
        raise TrainError(f"pixel values up to {int(images.max())} do not fit a model "
                         f"with {n_values} values")
    return tensor


# -------------------------------------------------------- training


def model_config(options: TrainOptions, images: np.ndarray):
    """The VAEConfig for the arch, image shape and overrides."""
    overrides = dict(options.overrides)
    overrides.update(height=images.shape[1], width=images.shape[2])
    if options.latent_dim is not None:
        overrides["latent_dim"] = options.latent_dim
    try:
        return make_config(options.arch, **overrides)
    except ModelConfigError as error:
        raise TrainError(str(error)) from None


@torch.no_grad()
def validation_bpd(model: VAE, images: torch.Tensor, batch_size: int, seed: int) -> float:
    """Seeded one-sample −ELBO in bits per dimension."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in range(0, images.shape[0], batch_size):
        total += model.neg_elbo(images[start:start + batch_size], generator).sum().item()
    return total / (images.shape[0] * model.n_dims * LOG_2)


GRAD_CLIP = 5.0  # gradient-norm clip (catches spikes; typical norms are 0.5-3 per dimension), per image dimension (the loss is nats per image)
LR_DECAY = 0.5  # learning-rate factor after LR_PATIENCE epochs in a row without a better validation bpd
LR_PATIENCE = 2  # (halving after every noisy bad epoch collapsed mnist's rate to 4e-6 in 25 epochs)
LR_FLOOR = 1.0 / 32  # never below this share of the initial learning rate


def train_epoch(model: VAE, optimizer, images: torch.Tensor, options: TrainOptions,
                epoch: int, binarized: bool, deadline: float | None) -> tuple[float, bool]:
    """One pass over the shuffled training images: (mean bpd, hit the deadline)."""
    model.train()
    generator = torch.Generator().manual_seed(options.seed * 100_003 + epoch)
    order = torch.randperm(images.shape[0], generator=generator)
    n_batches = math.ceil(images.shape[0] / options.batch_size)
    bar = tqdm(range(n_batches), desc=f"epoch {epoch + 1}/{options.epochs}", unit="batch",
               leave=False, dynamic_ncols=True)
    total, count, stopped = 0.0, 0, False
    for index in bar:
        x = images[order[index * options.batch_size:(index + 1) * options.batch_size]]
        if binarized:
            x = binarize(x, generator)
        loss = model.neg_elbo(x, generator).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP * model.n_dims)
        optimizer.step()
        total += loss.item() * x.shape[0]
        count += x.shape[0]
        bar.set_postfix(bpd=f"{total / (count * model.n_dims * LOG_2):.4f}")
        if deadline is not None and time.monotonic() > deadline:
            stopped = True
            break
    bar.close()
    return total / (count * model.n_dims * LOG_2), stopped


def checkpoint_path(options: TrainOptions) -> Path:
    return options.checkpoint_dir / options.name / "last.pt"


def save_checkpoint(path: Path, model: VAE, optimizer, state: TrainState,
                    best_weights: dict, options: TrainOptions, config) -> None:
    """Write the checkpoint atomically, so a killed run leaves the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "best": best_weights, "state": asdict(state),
        "run": {"dataset": options.dataset, "arch": options.arch, "seed": options.seed,
                "val_fraction": options.val_fraction, "config": config.to_dict()},
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path, model: VAE, optimizer, options: TrainOptions, config):
    """(TrainState, best weights) from ``path``, after checking it fits this run."""
    if not path.exists():
        raise TrainError(f"--resume: no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    run = payload["run"]
    expected = {"dataset": options.dataset, "arch": options.arch, "seed": options.seed,
                "val_fraction": options.val_fraction, "config": config.to_dict()}
    for key, value in expected.items():
        if run.get(key) != value:
            raise TrainError(f"--resume: checkpoint {path} was made with {key}={run.get(key)!r}, "
                             f"this run has {value!r}")
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    return TrainState(**payload["state"]), payload["best"]


def fit(model: VAE, train_images: np.ndarray, val_images: np.ndarray,
        options: TrainOptions, config) -> tuple[TrainState, dict]:
    """Train with checkpoints and early stopping; returns the state and best weights."""
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr)
    state, best = TrainState(), copy.deepcopy(model.state_dict())
    path = checkpoint_path(options)
    if options.resume:
        state, best = load_checkpoint(path, model, optimizer, options, config)
    binarized = needs_binarizing(train_images, config.n_values)
    train_tensor = torch.from_numpy(np.ascontiguousarray(train_images))
    if not binarized:
        train_tensor = as_targets(train_images, config.n_values, options.seed)
    val_tensor = as_targets(val_images, config.n_values, options.seed + 1)
    start = time.monotonic() - state.elapsed_s
    deadline = (start + 60.0 * options.time_limit_minutes
                if options.time_limit_minutes is not None else None)
    epochs = tqdm(total=options.epochs, initial=state.epoch, desc="training", unit="epoch",
                  dynamic_ncols=True)
    while state.epoch < options.epochs and state.bad_epochs < options.patience:
        train_bpd, out_of_time = train_epoch(model, optimizer, train_tensor, options,
                                             state.epoch, binarized, deadline)
        val_bpd = validation_bpd(model, val_tensor, options.batch_size, options.seed)
        state.epoch += 1
        state.elapsed_s = time.monotonic() - start
        state.history.append({"epoch": state.epoch, "train_bpd": train_bpd, "val_bpd": val_bpd})
        if val_bpd < state.best_val_bpd:
            state.best_val_bpd, state.bad_epochs = val_bpd, 0
            best = copy.deepcopy(model.state_dict())
        else:
            state.bad_epochs += 1
            if state.bad_epochs % LR_PATIENCE == 0:  # every LR_PATIENCE bad epochs in a row
                for group in optimizer.param_groups:
                    group["lr"] = max(group["lr"] * LR_DECAY, options.lr * LR_FLOOR)
        save_checkpoint(path, model, optimizer, state, best, options, config)
        epochs.update(1)
        epochs.set_postfix(train_bpd=f"{train_bpd:.4f}", val_bpd=f"{val_bpd:.4f}")
        if out_of_time:
            break
    epochs.close()
    return state, best


# ------------------------------------------------------ publishing


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


def initialized(options: TrainOptions) -> str:
    if not options.init:
        return ""
    name = options.init.partition("@")[0]
    return (f"\n- started from the weights of `{name}` (sha256 {options.init_sha256[:12]}), "
            "with a fresh optimizer")


def model_card(info: zoo.ModelInfo, options: TrainOptions, state: TrainState,
               n_params: int, split: dict) -> str:
    """The markdown card of a freshly trained model."""
    rates = info.rates
    history = "\n".join(f"| {h['epoch']} | {h['train_bpd']:.4f} | {h['val_bpd']:.4f} |"
                        for h in state.history)
    config = "\n".join(f"| {key} | {value} |" for key, value in info.config.items())
    return f"""# {info.name}

`{info.arch}` VAE, trained with vaezip.

## Data
- training: `{options.dataset}`, {split['train']} images for training and
  {split['val']} held out for validation (seeded split, seed {options.seed},
  val fraction {options.val_fraction}){split['binarized']}
- test: {rates['test_split']}, {rates['test_images']} images

## Command
```
{options.command}
```

## Training
- epochs: {state.epoch} (best validation −ELBO {state.best_val_bpd:.4f} bpd)
- wall time: {state.elapsed_s:.0f} s ({state.elapsed_s / 60:.1f} min) of training on {platform.machine()}, {options.threads} torch thread(s)
- parameters: {n_params:,}{initialized(options)}

## Rates on the test split (bits per dimension, float32 networks)
| −ELBO | importance-sampled −log q(x) | K |
|---|---|---|
| {rates['test_neg_elbo_bpd']:.4f} | {rates['test_is_bpd']:.4f} | {rates['importance_samples']} |

## Weights
- file: `{info.file}`
- sha256: `{info.sha256}`

## Config
| key | value |
|---|---|
{config}

## History
| epoch | train bpd | val bpd |
|---|---|---|
{history}
"""


def readme_row(info: zoo.ModelInfo, n_params: int) -> str:
    """The model's row in the columns ``scripts/measure_models.py --write-docs`` writes
    (the K = 1000 subset columns stay empty until that script has measured it)."""
    rates = info.rates
    split = str(rates.get("test_split", "?")).strip("`")
    return (f"| {info.name} | {info.arch} | {info.dataset} → {split} | {rates['test_neg_elbo_bpd']:.4f} | "
            f"{rates['test_is_bpd']:.4f} (K = {rates['importance_samples']}, all {rates['test_images']}) "
            f"| – | {n_params:,} | `{info.file}` | `{info.sha256[:12]}` |")


def update_readme(directory: Path, name: str, row: str) -> Path:
    """Add or replace the model's row in models/README.md."""
    path = directory / "README.md"
    text = path.read_text() if path.exists() else README_HEADER
    lines = text.splitlines()
    mine = [i for i, line in enumerate(lines) if line.startswith(f"| {name} |")]
    if mine:
        lines[mine[0]] = row
        lines = [line for i, line in enumerate(lines) if i not in mine[1:]]
    else:
        table = [i for i, line in enumerate(lines) if line.startswith("|")]
        lines.insert(table[-1] + 1 if table else len(lines), row)
    path.write_text("\n".join(lines) + "\n")
    return path


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


def train(options: TrainOptions) -> zoo.ModelInfo:
    """Run the whole pipeline (see the module docstring); returns the registry entry."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", options.name):
        raise TrainError(f"model name {options.name!r}: use letters, digits, '.', '_' and '-'")
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    directory = options.models_dir or zoo.models_dir()
    if options.name in zoo.read_registry(directory) and not options.force:
        raise TrainError(f"model {options.name!r} is already registered in {directory}; "
                         "pick another name or pass --force")
    images = load_images(options.dataset)
    config = model_config(options, images)
    test_spec = options.test or default_test_spec(options.dataset)
    test_images = load_images(test_spec) if test_spec else None
    train_images, val_images = split_validation(images, options.val_fraction, options.seed)
    model = VAE(config)
    if options.init:
        options.init_sha256 = initialize(model, options.init, directory).sha256
    state, best = fit(model, train_images, val_images, options, config)
    model.load_state_dict(best)
    if test_images is None:
        test_images, test_split = val_images, "the validation split (no test split given)"
    else:
        test_split = f"`{test_spec}`"
    result = measure(model, test_images, options)
    binarized = (", binarized dynamically (P(1) = v/255, fresh bits each epoch)"
                 if needs_binarizing(images, config.n_values) else "")
    split = {"train": len(train_images), "val": len(val_images), "binarized": binarized}
    return publish(model, options, state, result, test_split, split)
