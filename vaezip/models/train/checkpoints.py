"""Checkpoints: one per epoch in ``checkpoints/NAME/last.pt``, written atomically; ``--resume`` reads it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from vaezip.models.train.options import TrainError, TrainOptions, TrainState
from vaezip.models.vae import VAE


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
