"""A float network's operations -> an integer ``Program``, calibrated on real inputs.

The converter runs the float operations (``lower``) on calibration inputs
and emits their integer forms one by one, running the integer program so far
beside them (``exact64``): scales come from the float tensors' per-channel
maxima, and each layer's bias absorbs the mean difference between its float
output and its integer output on the calibration inputs, so errors do not
pile up through the network. A residual stream (a tensor, the blocks that add
to it) has one scale: the conv ending each block writes in it.
"""

from __future__ import annotations

import numpy as np
import torch

from vaezip.models.integer import exact64, lower
from vaezip.models.integer.program import AFFINE, Op, Program, walk
from vaezip.models.integer.quantize import Settings, Tables, channel_max, elu_table, frac_for, quantize_affine


class Converter:
    """Emits the integer ops of float ``ops``; tables go to ``tables`` (shared by a program)."""

    def __init__(self, ops: list[tuple], settings: Settings, tables: Tables):
        self.ops, self.settings, self.tables = ops, settings, tables

    def convert(self, x: torch.Tensor, frac_in: np.ndarray, bound_in: int, final: tuple,
                float64_last: bool = False) -> tuple[Program, np.ndarray]:
        """``(program, frac_out)`` for float inputs ``x`` whose integers are ``x * 2**frac_in``
        (magnitude at most ``bound_in``); ``final`` = (fracs, limit) of the last affine op's
        output; ``float64_last``: the last affine op runs in float64."""
        self.record = []
        lower.run(self.ops, x, self.record)
        self.final, self.float64_last = final, float64_last
        self.last = max(i for i, op in enumerate(self.ops) if op[0] in AFFINE)
        self.program = Program([], self.tables.tables)
        frac, stack, int_stack = np.asarray(frac_in), [], []
        xq = torch.floor(x * torch.from_numpy(np.exp2(frac.astype(np.float64))).view(_channel_view(x)) + 0.5)
        self.bound_in = bound_in
        for index, op in enumerate(self.ops):
            frac = self._one(index, op, frac, stack)
            if op[0] in AFFINE and self.settings.bias_correction and index != self.last:
                _correct_bias(self.program, xq, self.record[index], frac, int_stack)
            xq = exact64.step(self.program, self.program.ops[-1], xq, int_stack)
        return self.program, frac

    def _bound(self, channels: int):
        """The per-channel bound of the next op's input (repeated per feature after a flatten)."""
        low, high = walk(self.program, -self.bound_in, self.bound_in)[1]
        if len(low) != channels:
            low, high = np.repeat(low, channels // len(low)), np.repeat(high, channels // len(high))
        return low, high

    def _one(self, index: int, op: tuple, frac: np.ndarray, stack: list) -> np.ndarray:
        """Append the integer form of float op ``index``; returns the fracs of its output."""
        kind, emit = op[0], self.program.ops.append
        if kind in AFFINE:
            return self._affine(index, op, frac, stack)
        if kind == "elu":
            if np.any(frac > self.settings.elu_max_frac):
                raise ValueError("an ELU input is finer than the ELU tables allow")
            ids = [self.tables.get(("elu", int(f)), lambda f=int(f): elu_table(f)) for f in frac]
            emit(Op("lut", table_of=np.array(ids, dtype=np.int64)))
        elif kind in ("relu", "save", "flatten"):
            emit(Op(kind))
            if kind == "save":
                stack.append(frac)
            if kind == "flatten":
                return np.repeat(frac, self.record[index].shape[1] // len(frac))
        elif kind == "add":
            frac = stack.pop()
            emit(Op("add", limit=self.settings.limit))
        elif kind == "unflatten":
            fracs = frac.reshape(op[1][0], -1)
            if np.any(fracs != fracs[:, :1]):
                raise ValueError("unflatten needs one scale per channel")
            emit(Op("unflatten", shape=tuple(op[1])))
            return fracs[:, 0].copy()
        return frac

    def _affine(self, index, op, frac, stack):
        kind, p = op
        frac_out, limit = self._out_scale(index, stack)
        cin = p["weight"].shape[0 if kind == "conv_transpose" else 1]
        budget, groups = self.settings.budget(index, kind, cin, self.float64_last and index == self.last)
        stride = p.get("stride", 1)
        wq, bq, shift = quantize_affine(kind, p["weight"], p["bias"], frac, self._bound(cin), frac_out, budget,
                                        groups, stride)
        self.program.ops.append(Op(kind, wq, bq, shift, limit, stride, p.get("padding", 0)))
        return frac_out

    def _out_scale(self, index: int, stack: list) -> tuple[np.ndarray, int]:
        """Per-channel fracs and the clamp limit of an affine op's output."""
        if index == self.last and self.final is not None:
            return np.asarray(self.final[0]), int(self.final[1])
        ops, limit = self.ops, self.settings.limit
        if index + 1 < len(ops) and ops[index + 1][0] == "add":
            return stack[-1], limit  # a block's last conv writes in its residual stream
        channels = ops[index + 1][1][0] if index + 1 < len(ops) and ops[index + 1][0] == "unflatten" else None
        peak = channel_max(self.record[index], channels)
        for k in self._stream(index):
            peak = np.maximum(peak, channel_max(self.record[k], channels))
        fracs = np.array([frac_for(m * self.settings.margin, limit, self.settings.elu_max_frac) for m in peak])
        if channels is not None:
            fracs = np.repeat(fracs, self.record[index].shape[1] // channels)
        return fracs, limit

    def _stream(self, index: int) -> list[int]:
        """The adds of the residual stream that op ``index``'s output starts (consecutive blocks)."""
        ops, k, found = self.ops, index + 1, []
        while k < len(ops) and ops[k][0] == "save":
            depth, k = 1, k + 1
            while depth:
                depth += {"save": 1, "add": -1}.get(ops[k][0], 0)
                k += 1
            found.append(k - 1)
        return found


def _channel_view(x: torch.Tensor) -> tuple:
    return (1, -1) + (1,) * (x.dim() - 2)


def _correct_bias(program: Program, xq: torch.Tensor, target: torch.Tensor, frac_out: np.ndarray, int_stack):
    """Shift the last op's bias so that its integer output on the integer inputs ``xq`` has, per
    channel, the mean of the float output ``target`` (the error of the layers before, corrected)."""
    op = program.ops[-1]
    y = exact64.step(program, op, xq, list(int_stack))
    real = y * torch.from_numpy(np.exp2(-frac_out.astype(np.float64))).view(_channel_view(y))
    dims = [d for d in range(y.dim()) if d != 1]
    delta = (target - real).mean(dim=dims).numpy()
    op.bias = op.bias + np.round(delta * np.exp2(op.shift.astype(np.float64) + frac_out)).astype(np.int64)
