"""What a trained model is published with: its markdown card ``models/NAME.md`` and its row in
``models/README.md``."""

from __future__ import annotations

import platform
from pathlib import Path

from vaezip.models import zoo
from vaezip.models.train.options import TrainOptions, TrainState

README_HEADER = (
    "# vaezip model zoo\n\n"
    "Weights are registered in `zoo.json` (name, arch, config, file, full sha256) and\n"
    "verified on every load. Each model has a card `NAME.md`. Rates are measured on\n"
    "the test split by `vaezip.models.density`, in bits per dimension.\n\n"
    "| name | arch | data (train → test) | test −ELBO bpd (all) | IS bpd (K, images) "
    "| −ELBO bpd, same images | params | file | sha256 |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
)


def initialized(options: TrainOptions) -> str:
    if not options.init:
        return ""
    name = options.init.partition("@")[0]
    return (f"\n- started from the weights of `{name}` (sha256 {options.init_sha256[:12]}), "
            "with a fresh optimizer")


def model_card(info: zoo.ModelInfo, options: TrainOptions, state: TrainState,
               n_params: int, split: dict) -> str:
    """The markdown card of a freshly trained model: how it was trained, then what it measures."""
    return _card_run(info, options, state, n_params, split) + _card_results(info, state)


def _card_run(info: zoo.ModelInfo, options: TrainOptions, state: TrainState, n_params: int, split: dict) -> str:
    """The card's title, data, command and training sections."""
    rates = info.rates
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
"""


def _card_results(info: zoo.ModelInfo, state: TrainState) -> str:
    """The card's test rates, weights, config and history sections."""
    rates = info.rates
    history = "\n".join(f"| {h['epoch']} | {h['train_bpd']:.4f} | {h['val_bpd']:.4f} |"
                        for h in state.history)
    config = "\n".join(f"| {key} | {value} |" for key, value in info.config.items())
    return f"""
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
