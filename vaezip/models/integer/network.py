"""An integer VAE: encoder and decoder programs, the latent table and the causal head.

What each part reads and gives (all integers; ``docs/format.md``, "Integer networks"):

- ``encoder``: centred pixels ``t = 2v - (n_values - 1)``, shape (1, H, W)
  -> (2D,): the posterior means, then the standard deviations (``>= 1``),
  both in units of ``2**-OUTPUT_FRAC``.
- ``latent_table``: latent bucket -> the decoder's input, in units of
  ``2**-latent_frac`` (the bucket's centre, rounded).
- ``decoder``: (D,) -> features (C, H, W) for the head, or, without a head,
  the likelihood's raw parameters in units of ``2**-OUTPUT_FRAC``.
- ``head`` (``IntegerHead``): a pixel's features and the pixels coded
  before it -> its raw parameters in units of ``2**-OUTPUT_FRAC``.

``check`` proves every partial sum of all four below 2**53 for every input
they can be given, or raises ``ProgramError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaezip.models.config import VAEConfig
from vaezip.models.integer.program import (
    EXACT_LIMIT, MAX_WEIGHT, Op, Program, ProgramError, check_affine, check_bounds, sum_bounds,
)

OUTPUT_FRAC = 16  # posterior and likelihood parameters: integers times 2**-16


@dataclass
class IntegerHead:
    """The causal head in integers; per pixel, with ``t`` the centred pixels (0 outside the image):

    ``a[c] = features[c] * 2**feature_shift + sum_n conv[n, c] * t[i + dy_n, j + dx_n]``,
    ``h = max(a, 0)``, per layer ``h = max(requant(W h), 0)``, then ``params = requant(W_out h)``
    (``requant`` as in ``program``: bias, rounding half, shift, clamp).
    """

    offsets: np.ndarray  # (N, 2) int64, raster order, all before (0, 0)
    conv: np.ndarray  # (N, C) int64
    feature_shift: int
    layers: list[Op]  # "linear" ops, (C, C)
    out: Op  # "linear", (P, C)


@dataclass
class IntegerModel:
    """Everything a coder needs to run a model exactly (what a v3 file's weights id names)."""

    config: VAEConfig
    encoder: Program
    decoder: Program
    latent_table: np.ndarray  # (2**latent_bits,) int64
    latent_frac: int
    head: IntegerHead | None = None

    @property
    def latent_bits(self) -> int:
        return int(len(self.latent_table)).bit_length() - 1

    @property
    def latent_bound(self) -> int:
        return int(np.abs(self.latent_table).max())

    def check(self) -> None:
        """ProgramError unless every part is well formed and exact for every input it can be given."""
        n = self.config.n_values
        if len(self.latent_table) < 2 or len(self.latent_table) & (len(self.latent_table) - 1):
            raise ProgramError("the latent table needs a power-of-two number of buckets")
        if self.latent_bound >= MAX_WEIGHT:
            raise ProgramError("latent table values must stay below 2^31")
        if not np.array_equal(self.latent_table, latent_table(self.latent_bits, self.latent_frac)):
            raise ProgramError("the latent table is not the latent buckets' centres, rounded")
        check_bounds(self.encoder, -(n - 1), n - 1)
        check_bounds(self.decoder, -self.latent_bound, self.latent_bound)
        if self.head is not None:
            check_head(self.head, self.decoder.ops[-1].limit, n)


def latent_table(latent_bits: int, frac: int) -> np.ndarray:
    """The decoder's integer inputs of the equal-mass latent buckets: ``round(2**frac * centre)``
    (half up), centres from ``vaezip.codecs.gaussian.latent_grid`` (the same doubles everywhere)."""
    from vaezip.codecs.gaussian import latent_grid

    return np.floor(latent_grid(latent_bits)[1] * (1 << frac) + 0.5).astype(np.int64)


def check_head(head: IntegerHead, feature_limit: int, n_values: int) -> None:
    """ProgramError unless the head is well formed and its sums stay below 2**53."""
    offsets, conv = head.offsets, head.conv
    if offsets.ndim != 2 or offsets.shape[1] != 2 or conv.ndim != 2 or len(conv) != len(offsets):
        raise ProgramError("head: offsets (N, 2) and conv (N, C) needed")
    if np.any((offsets[:, 0] > 0) | ((offsets[:, 0] == 0) & (offsets[:, 1] >= 0))):
        raise ProgramError("head: offsets must point at pixels before the current one in raster order")
    if not 0 <= head.feature_shift <= 30 or np.abs(conv).max(initial=0) >= MAX_WEIGHT:
        raise ProgramError("head: feature shift in 0..30 and weights below 2^31 needed")
    high = feature_limit * (1 << head.feature_shift) + np.abs(conv).sum(axis=0) * (n_values - 1)
    if int(high.max()) >= MAX_WEIGHT:
        raise ProgramError("head: its first sums could reach 2^31")
    channels = conv.shape[1]
    bound = (np.zeros(channels, dtype=np.int64), high.astype(np.int64))
    for index, op in enumerate(head.layers + [head.out]):
        check_affine(index, op)
        if op.kind != "linear" or op.in_channels != channels or not 0 < op.limit < MAX_WEIGHT:
            raise ProgramError(f"head layer {index}: a linear layer of {channels} inputs and a clamp below 2^31 needed")
        if int(sum_bounds(op, *bound).max()) >= EXACT_LIMIT:
            raise ProgramError(f"head layer {index}: a partial sum could leave the exact range")
        bound = (np.zeros(op.out_channels, dtype=np.int64), np.full(op.out_channels, op.limit, dtype=np.int64))
        channels = op.out_channels
