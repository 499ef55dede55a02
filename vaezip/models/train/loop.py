"""The training loop: Adam in float32, gradient clipping, learning-rate decay, early stopping."""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from tqdm import tqdm

from vaezip.models.config import ModelConfigError, make_config
from vaezip.models.train.checkpoints import checkpoint_path, load_checkpoint, save_checkpoint
from vaezip.models.train.data import as_targets, binarize, needs_binarizing
from vaezip.models.train.options import TrainError, TrainOptions, TrainState
from vaezip.models.vae import VAE

LOG_2 = math.log(2.0)


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
