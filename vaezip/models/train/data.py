"""The images a run trains, validates and tests on: loaded, split, binarized when the model needs bits."""

from __future__ import annotations

import numpy as np
import torch

from vaezip.models.train.options import TrainError


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
