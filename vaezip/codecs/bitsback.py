"""Bits-back coding (BB-ANS) with any latent-variable model.

To compress a batch ``x`` (decompression runs the same steps backwards)::

    z ~ p(z | x)     pop z from the quantized posterior   (takes bits back)
    push x | z       with the likelihood q(x | z)
    push z           with the prior (uniform over equal-mass buckets: latent_bits each)

so the net cost of a batch is ``-log q(x|z) - log q(z) + log p(z|x)``, its
−ELBO under the quantized posterior. The first batch of a stream has no bits
to take back: it must be a single image, whose latent is its posterior's
median bucket (``first=True``), and the decoder checks that it is.

The model is anything with this shape (numpy in, numpy out; see
``LatentModel``), so a user's own VAE plugs in without subclassing ours.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from vaezip.codecs.base import Family
from vaezip.codecs.gaussian import GaussianLatent
from vaezip.rans import FormatError, Message


@runtime_checkable
class LatentModel(Protocol):
    """What bits-back needs from a model.

    Attributes:
        latent_dim: number of latent dimensions D.
        likelihood: a model family that codes a batch of images given the
            keyword parameters ``decode`` returns (``likelihood.push(msg, x,
            **params)`` / ``likelihood.pop(msg, **params)``).

    Both methods see a whole batch, and must give identical outputs for
    identical inputs on the compress and decompress side (same machine,
    same batch composition).
    """

    latent_dim: int
    likelihood: Family

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mean, std)`` of shape ``(B, latent_dim)`` for images ``x`` (B, ...)."""

    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Likelihood parameters for latents ``z`` of shape ``(B, latent_dim)``."""


def push_batch(msg: Message, x: np.ndarray, model: LatentModel, latent: GaussianLatent, first: bool = False) -> None:
    """Compress the batch ``x`` onto ``msg`` (``first``: a single image, no bits to take back)."""
    mean, std = model.encode(x)
    if first:
        if len(x) != 1:
            raise ValueError("the first batch of a stream must hold exactly one image")
        z = latent.median(mean)
    else:
        z = latent.pop(msg, mean=mean, std=std)
    model.likelihood.push(msg, x, **model.decode(latent.centres[z]))
    latent.push_prior(msg, z)


def pop_batch(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, first: bool = False) -> np.ndarray:
    """Decompress a batch of ``count`` images from ``msg`` (the inverse of ``push_batch``)."""
    z = latent.pop_prior(msg, (count, model.latent_dim))
    x = model.likelihood.pop(msg, **model.decode(latent.centres[z]))
    mean, std = model.encode(x)
    if first:
        if not np.array_equal(z, latent.median(mean)):
            raise FormatError(
                "the first image's latent is not its posterior median: the data is corrupt "
                "or was compressed with another model"
            )
    else:
        latent.push(msg, z, mean=mean, std=std)
    return x


def batch_schedule(count: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch of a stream of ``count`` images.

    The first batch is one image (coded with its median latent); then the
    batches double, 1, 2, 4, ... up to ``batch_size``, so that each batch
    finds clean bits left by the ones before it.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    bounds, start, size = [], 0, 1
    while start < count:
        stop = min(start + size, count)
        bounds.append((start, stop))
        start = stop
        if len(bounds) > 1:
            size = min(2 * size, batch_size)
    return bounds


def push_stream(msg: Message, images: np.ndarray, model: LatentModel, latent: GaussianLatent, batch_size: int) -> None:
    """Compress a stream of images (first image with its median latent, then bits-back batches)."""
    for i, (start, stop) in enumerate(batch_schedule(len(images), batch_size)):
        push_batch(msg, images[start:stop], model, latent, first=i == 0)


def pop_stream(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, batch_size: int) -> np.ndarray:
    """Decompress ``count`` images pushed by ``push_stream`` (batches in reverse order)."""
    batches = []
    schedule = batch_schedule(count, batch_size)
    for i, (start, stop) in reversed(list(enumerate(schedule))):
        batches.append(pop_batch(msg, stop - start, model, latent, first=i == 0))
    return np.concatenate(batches[::-1]) if batches else np.empty((0,))
