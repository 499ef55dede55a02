"""A plain exact engine: every op of a program in torch float64.

Every value is an integer and every partial sum stays below 2**53
(``program.check_bounds``), so float64 holds each exactly, whatever order
torch's kernels sum in. Slow (torch has no fast float64 convolution) but
sure: the converter runs it, the estimates use its head, and the fast engine
falls back to it when its start-up check fails.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vaezip.models.integer.program import Program, rounding_half


def requant(acc: torch.Tensor, op, channel_dim: int = 1) -> torch.Tensor:
    """``clamp(floor((acc + bias + half) / 2**shift), -limit, limit)`` per channel (float64, exact)."""
    shape = [1] * acc.dim()
    shape[channel_dim] = -1
    offset = torch.from_numpy(op.bias + rounding_half(op.shift)).double().view(shape)
    factor = torch.from_numpy(np.exp2(-op.shift.astype(np.float64))).view(shape)
    return torch.floor((acc + offset) * factor).clamp_(-op.limit, op.limit)


def lut(x: torch.Tensor, program: Program, table_of: np.ndarray) -> torch.Tensor:
    """The ``lut`` op: per channel its table (or the identity)."""
    out = x.clone()
    for c, t in enumerate(table_of):
        if t < 0:
            continue
        table = program.tables[t]
        xc = x[:, c].long()
        values = torch.from_numpy(table.values)
        n = len(table.values)
        inside = values[(xc - table.low).clamp(0, n - 1)]
        above = xc * (1 << table.slope_shift) + table.offset
        out[:, c] = torch.where(xc < table.low + n, inside, above).double()
    return out


def run(program: Program, x: torch.Tensor) -> torch.Tensor:
    """The program on a batch ``x`` (B, ...) of integers, as float64 integers."""
    x = x.double()
    stack = []
    for op in program.ops:
        x = step(program, op, x, stack)
    return x


def step(program: Program, op, x: torch.Tensor, stack: list) -> torch.Tensor:
    """One op of ``program`` on float64 integers ``x`` (``stack``: the saved tensors)."""
    kind = op.kind
    if kind == "conv":
        return requant(F.conv2d(x, torch.from_numpy(op.weight).double(), None, op.stride, op.padding), op)
    if kind == "conv_transpose":
        return requant(F.conv_transpose2d(x, torch.from_numpy(op.weight).double(), None, op.stride, op.padding), op)
    if kind == "linear":
        return requant(F.linear(x, torch.from_numpy(op.weight).double()), op)
    if kind == "lut":
        return lut(x, program, op.table_of)
    if kind == "relu":
        return x.clamp_min(0)
    if kind == "save":
        stack.append(x)
        return x
    if kind == "add":
        return (stack.pop() + x).clamp_(-op.limit, op.limit)
    if kind == "flatten":
        return x.flatten(1)
    if kind == "unflatten":
        return x.reshape(-1, *op.shape)
    raise ValueError(kind)


def head(h, n_values: int, features: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The integer head's raw parameters (B, P, H, W) at every pixel of known images ``x`` (B, H, W),
    from the decoder's integer ``features`` (B, C, H, W), as float64 integers."""
    r = int(np.abs(h.offsets).max(initial=0))
    k = 2 * r + 1
    t = (2 * x.long() - (n_values - 1)).double()[:, None]
    kernel = torch.zeros(h.conv.shape[1], 1, k, k, dtype=torch.float64)
    for (dy, dx), w in zip(h.offsets, h.conv):
        kernel[:, 0, dy + r, dx + r] = torch.from_numpy(w).double()
    a = features.double() * (1 << h.feature_shift) + F.conv2d(t, kernel, None, 1, r)
    a = a.clamp_min(0)
    for op in h.layers:
        a = requant(torch.einsum("rc,bchw->brhw", torch.from_numpy(op.weight).double(), a), op).clamp_min(0)
    return requant(torch.einsum("pc,bchw->bphw", torch.from_numpy(h.out.weight).double(), a), h.out)
