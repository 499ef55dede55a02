"""Quantizing one layer: power-of-two scales, integer weights within an exact-sum budget, tables.

Every tensor of an integer network has a power-of-two scale per channel,
``2**-frac[c]``: the largest that keeps the channel's calibration maximum
inside the tensor's clamp. An affine layer maps its input's scales to its
output's with a pure shift: its weights are ``round(weight * 2**(shift +
frac_out[o] - frac_in[c]))``, its bias ``round(bias * 2**(shift +
frac_out[o]))``, and the shift of each output channel is the largest that
keeps the channel's partial-sum bound (``program.sum_bounds``) inside the
layer's *budget*: 2**24 for the float32 engine (per group of input channels
when the engine sums in groups), 2**53 for layers run in float64. Weights
never need more than ``WEIGHT_BITS`` bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from vaezip.models.integer.program import Table

WEIGHT_BITS = 16  # |weight| < 2**15: finer buys nothing
MAX_FRAC = 24
FLOAT32_BUDGET = 24
FLOAT64_BUDGET = 53


@dataclass
class Settings:
    """What the converter may spend.

    ``act_bits``: a tensor's clamp is ``2**(act_bits - 1) - 1``; ``groups``: op index ->
    input-channel groups the float32 engine sums separately (default 1); ``elu_max_frac``:
    the finest ELU input scale (the ELU tables grow as ``2**frac``); ``margin``: calibration
    maxima are multiplied by it; ``bias_correction``: each layer's bias absorbs the mean error
    of the layers before it on the calibration images (not the last layer's: its outputs are
    distribution parameters, where matching means does not pay).
    """

    act_bits: int = 12
    groups: dict = field(default_factory=dict)
    default_groups: int = 1
    elu_max_frac: int = 13
    margin: float = 1.0
    bias_correction: bool = True

    @property
    def limit(self) -> int:
        return (1 << (self.act_bits - 1)) - 1

    def budget(self, index: int, kind: str, in_channels: int, float64: bool) -> tuple[int, int]:
        """``(budget_bits, groups)`` of op ``index`` (``float64``: a layer the engine runs in float64)."""
        if kind == "linear" or float64:
            return FLOAT64_BUDGET, 1
        return FLOAT32_BUDGET, min(self.groups.get(index, self.default_groups), in_channels)


class Tables:
    """The tables of one program, each built once and shared by key (``("elu", frac)``, ...)."""

    def __init__(self):
        self.tables: list[Table] = []
        self.keys: dict = {}

    def get(self, key, build) -> int:
        if key not in self.keys:
            self.keys[key] = len(self.tables)
            self.tables.append(build())
        return self.keys[key]


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def elu_table(frac: int) -> Table:
    """ELU in units of 2**-frac: ``round(2**frac * expm1(x * 2**-frac))`` for x < 0, identity above.

    The table runs from the first input whose value is ``-2**frac`` (the ELU's floor, which
    every smaller input shares) to -1.
    """
    one = 1 << frac
    n = 1
    while round_half_up(one * math.expm1(-n / one)) > -one:
        n += 1
    values = np.array([round_half_up(one * math.expm1(x / one)) for x in range(-n, 0)], dtype=np.int64)
    return Table(low=-n, values=values)


def frac_for(maximum: float, limit: int, cap: int = MAX_FRAC) -> int:
    """The largest frac (power-of-two scale) that keeps ``maximum`` within ``limit``, at most ``cap``."""
    if not maximum > 0:
        return cap
    return int(min(cap, math.floor(math.log2(limit / maximum))))


def channel_max(x: torch.Tensor, channels: int | None = None) -> np.ndarray:
    """Largest magnitude per channel (dim 1), or per group of features of a flat x."""
    if channels is not None and x.dim() == 2:
        x = x.reshape(x.shape[0], channels, -1)
    dims = [d for d in range(x.dim()) if d != 1]
    return x.abs().amax(dim=dims).numpy()


def quantize_affine(kind: str, weight: torch.Tensor, bias: torch.Tensor, frac_in: np.ndarray, bound_in: tuple,
                    frac_out: np.ndarray, budget_bits: int, groups: int = 1, stride: int = 1) -> tuple:
    """``(weight, bias, shift)`` as int64 arrays, each output channel at the largest shift inside
    the budget; ``bound_in`` = per-input-channel ``(low, high)`` of the input integers."""
    w = weight.double().numpy()
    if kind == "conv_transpose":
        w = w.transpose(1, 0, 2, 3)  # (C_out, C_in, k, k), like a convolution's
    cout = w.shape[0]
    shape = (-1,) + (1,) * (w.ndim - 2)
    per_unit = w * np.exp2(-np.asarray(frac_in, dtype=np.float64)).reshape(shape)
    taps = tuple(np.broadcast_to(np.asarray(b, dtype=np.float64).reshape(shape), w.shape[1:]) for b in bound_in)
    wq, bq, shifts = np.empty(w.shape, dtype=np.int64), np.empty(cout, dtype=np.int64), np.empty(cout, dtype=np.int64)
    b = bias.double().numpy()
    phases = stride if kind == "conv_transpose" else 1
    for o in range(cout):
        wq[o], bq[o], shifts[o] = _channel(per_unit[o], taps, b[o], int(frac_out[o]), budget_bits, groups, phases)
    if kind == "conv_transpose":
        wq = np.ascontiguousarray(wq.transpose(1, 0, 2, 3))
    return wq, bq, shifts


def _channel(w, taps, b, frac_out, budget_bits, groups, phases):
    """One output channel: the largest shift with every group's bound inside the budget.

    The float32 engine adds the bias and the rounding half to the groups' total in float64,
    so they count only in a float64 budget."""
    peak = float(np.abs(w).max()) or 1e-30
    s = min(62, math.floor(math.log2(2.0 ** (WEIGHT_BITS - 1) / peak)) - frac_out)
    while s >= 0:
        scale = 2.0 ** (s + frac_out)
        wq = np.round(w * scale)
        bq = round_half_up(b * scale)
        total = _bound(wq, taps, groups, phases)
        if budget_bits > FLOAT32_BUDGET:
            total += abs(bq) + (2.0 ** (s - 1) if s > 0 else 0.0)
        if total < 2.0 ** budget_bits and np.abs(wq).max() < 2 ** (WEIGHT_BITS - 1):
            return wq.astype(np.int64), bq, s
        s -= 1
    raise ValueError("no shift keeps this layer inside its exact range: its output scale is too fine")


def _bound(wq, taps, groups, phases) -> float:
    """The largest partial-sum magnitude of one output channel (``program.sum_bounds``), per group."""
    low, high = taps
    pos = np.maximum(np.maximum(wq * high, wq * low), 0.0)
    neg = np.maximum(np.maximum(-wq * high, -wq * low), 0.0)
    size = len(pos) // groups
    worst = 0.0
    for g in range(groups):
        part = slice(g * size, (g + 1) * size)
        for py in range(phases):
            for px in range(phases):
                view = (part, slice(py, None, phases), slice(px, None, phases)) if pos.ndim == 3 else (part,)
                worst = max(worst, float(pos[view].sum()), float(neg[view].sum()))
    return worst
