"""What a training run is asked to do (``TrainOptions``), what it carries between epochs, and its error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path


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
