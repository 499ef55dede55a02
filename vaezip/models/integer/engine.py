"""The fast exact engine: float32 oneDNN convolutions on integers, exactness proven per layer.

A float32 sum of integers is exact in any order, with FMA or without, as
long as every partial sum stays below 2**24. For each convolution the engine
takes the fewest input-channel groups (1, 2, 4, ...) whose partial sums are
proven below 2**24 (``program.sum_bounds`` on the group's weights, bias and
rounding left out), runs them as one grouped convolution with
``groups * C_out`` outputs, and the Numba ``finish`` kernel adds the groups,
the bias and the rounding half in float64, shifts, clamps, adds the residual
and applies the table, all exact. A layer no grouping makes exact runs in
float64: a 1x1 convolution as a matrix product, any other through
``exact64``. Linear layers (small) run in float64 too.

Before it is used, ``Engine.verified`` compares the engine with ``exact64``
on a probe batch; kernels that are not exact (NNPACK's Winograd, reduced-
precision float32 modes, a future backend) fail the check, and the caller
gets the ``exact64`` engine instead.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from vaezip.models.integer import exact64, kernels
from vaezip.models.integer.program import Program, check_bounds, input_bounds, rounding_half, sum_bounds

FLOAT32_EXACT = 1 << 24
MAX_GROUPS = 8
_EMPTY = np.zeros((0, 0), dtype=np.float32)
_NO_TABLE = tuple(np.zeros(1, dtype=np.float32) for _ in range(4))


@dataclass
class Step:
    """One op of the plan; a float32 convolution carries what ``finish`` fuses after it."""

    op: object
    mode: str = "exact"  # "conv32", "pointwise64", "linear32", "linear64", "lut", "exact"
    groups: int = 1
    weight: torch.Tensor | None = None
    offset: np.ndarray | None = None  # float64 bias + rounding half
    factor: np.ndarray | None = None  # float64 2**-shift
    residual: int = 0  # the add's limit, when the step adds the saved tensor
    save: bool = False
    post: int = kernels.POST_NONE
    table: tuple = _NO_TABLE


def _group_bound(op, low, high, groups: int) -> int:
    """The largest float32 partial sum of ``op`` run as ``groups`` input-channel groups."""
    size = op.in_channels // groups
    worst = 0
    for g in range(groups):
        part = slice(g * size, (g + 1) * size)
        weight = op.weight[part] if op.kind == "conv_transpose" else op.weight[:, part]
        sums = sum_bounds(replace(op, weight=weight), low[part], high[part], with_bias=False)
        worst = max(worst, int(sums.max()))
    return worst


def exact_groups(op, low, high) -> int | None:
    """The fewest groups (a power of two dividing C_in, at most MAX_GROUPS) exact in float32, or None."""
    groups = 1
    while groups <= min(MAX_GROUPS, op.in_channels):
        if op.in_channels % groups == 0 and _group_bound(op, low, high, groups) < FLOAT32_EXACT:
            return groups
        groups *= 2
    return None


def _conv_weight(op, groups: int) -> torch.Tensor:
    """float32 integer weights of ``op`` as one grouped convolution with ``groups * C_out`` outputs."""
    w = op.weight.astype(np.float32)
    if op.kind == "conv_transpose":  # (C_in, C_out, k, k): input group g already feeds outputs g*C_out...
        return torch.from_numpy(w).contiguous(memory_format=torch.channels_last)
    size = op.in_channels // groups
    blocks = [w[:, g * size:(g + 1) * size] for g in range(groups)]
    return torch.from_numpy(np.concatenate(blocks, axis=0)).contiguous(memory_format=torch.channels_last)


def _pointwise(op) -> bool:
    return op.kind == "conv" and op.weight.shape[2] == 1 and op.stride == 1 and op.padding == 0


class Engine:
    """A program compiled for the fast path; ``run`` takes and gives float tensors of integers."""

    def __init__(self, program: Program, bound: int):
        check_bounds(program, -bound, bound)
        self.program, self.bound = program, bound
        self.steps = self._plan(program, input_bounds(program, -bound, bound))

    def _plan(self, program, bounds) -> list[Step]:
        steps, ops, i = [], program.ops, 0
        while i < len(ops):
            op, step = ops[i], Step(ops[i])
            i += 1
            if op.kind in ("conv", "conv_transpose"):
                groups = exact_groups(op, *bounds[i - 1])
                if groups is not None:
                    step = self._conv32(op, groups)
                    i = self._fuse(step, ops, i, program)
                elif _pointwise(op):
                    step = Step(op, "pointwise64", 1, np.ascontiguousarray(op.weight[:, :, 0, 0].T, dtype=np.float64),
                                (op.bias + rounding_half(op.shift)).astype(np.float64), np.exp2(-op.shift.astype(np.float64)))
            elif op.kind == "linear":
                step = self._linear(op, bounds[i - 1])
                if i < len(ops) and ops[i].kind == "relu":
                    step.post, i = kernels.POST_RELU, i + 1
            elif op.kind == "lut":
                step.mode, step.table = "lut", lookup_tables(program, op.table_of)
            steps.append(step)
        return steps

    @staticmethod
    def _linear(op, bound) -> Step:
        """A linear layer: a float32 matrix product when its sums are proven below 2**24, else float64."""
        single = int(sum_bounds(op, *bound, with_bias=False).max()) < FLOAT32_EXACT
        dtype = np.float32 if single else np.float64
        return Step(op, "linear32" if single else "linear64", 1, torch.from_numpy(op.weight.T.astype(dtype)),
                    (op.bias + rounding_half(op.shift)).astype(np.float64), np.exp2(-op.shift.astype(np.float64)))

    @staticmethod
    def _conv32(op, groups: int) -> Step:
        return Step(op, "conv32", groups, _conv_weight(op, groups), (op.bias + rounding_half(op.shift)).astype(np.float64),
                    np.exp2(-op.shift.astype(np.float64)))

    @staticmethod
    def _fuse(step: Step, ops, i: int, program: Program) -> int:
        """Fold a following add, save and table (or relu) into ``step``; returns the next op's index."""
        if i < len(ops) and ops[i].kind == "add":
            step.residual, i = ops[i].limit, i + 1
        if i < len(ops) and ops[i].kind == "save":
            step.save, i = True, i + 1
        if i < len(ops) and ops[i].kind == "relu":
            step.post, i = kernels.POST_RELU, i + 1
        elif i < len(ops) and ops[i].kind == "lut" and _identity_above(program, ops[i].table_of):
            step.post, step.table, i = kernels.POST_LUT, flat_tables(program, ops[i].table_of), i + 1
        return i

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """The program on a batch of integers (float32 or float64); float32 or float64 integers out."""
        stack = []
        x = x.float().contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x.double()
        for step in self.steps:
            x = self._step(step, x, stack)
        return x

    def _step(self, step: Step, x: torch.Tensor, stack: list) -> torch.Tensor:
        if step.mode == "conv32":
            return self._conv(step, x.float(), stack)
        if step.mode == "pointwise64":
            b, _, h, w = x.shape
            out = np.empty((b * h * w, step.weight.shape[1]), dtype=np.float64)
            kernels.pointwise(_rows(x, x.shape[1]), step.weight, step.offset, step.factor, float(step.op.limit), out)
            return torch.from_numpy(out).view(b, h, w, -1).permute(0, 3, 1, 2)
        if step.mode == "lut":
            rows = _rows(x, x.shape[1]) if x.dim() == 4 else x.numpy()
            out = np.empty(rows.shape, dtype=np.float64)
            kernels.lookup(rows, *step.table, out)
            out = torch.from_numpy(out)
            return out.view(x.shape[0], *x.shape[2:], -1).permute(0, 3, 1, 2) if x.dim() == 4 else out
        if step.mode in ("linear32", "linear64"):
            acc = (x.float() if step.mode == "linear32" else x.double()) @ step.weight
            out = np.empty(acc.shape, dtype=np.float64)
            kernels.requant_rows(acc.numpy(), step.offset, step.factor, float(step.op.limit),
                                 step.post == kernels.POST_RELU, out)
            return torch.from_numpy(out)
        if step.op.kind == "unflatten":
            return x.reshape(-1, *step.op.shape).float().contiguous(memory_format=torch.channels_last)
        return exact64.step(self.program, step.op, x.double(), stack)

    def _conv(self, step: Step, x: torch.Tensor, stack: list) -> torch.Tensor:
        op = step.op
        if op.kind == "conv":
            parts = F.conv2d(x, step.weight, None, op.stride, op.padding, 1, step.groups)
        else:
            parts = F.conv_transpose2d(x, step.weight, None, op.stride, op.padding, 0, step.groups)
        b, width, h, w = parts.shape
        cout = width // step.groups
        rows = _rows(parts, width)
        resid = _rows(stack.pop().float(), cout) if step.residual else _EMPTY
        keep = step.save or step.post == kernels.POST_NONE
        out = np.empty((len(rows), cout), dtype=np.float32) if keep else _EMPTY
        out_post = np.empty((len(rows), cout), dtype=np.float32) if step.post else _EMPTY
        kernels.finish(rows, step.groups, step.offset, step.factor, np.float32(op.limit), resid,
                       np.float32(step.residual), keep, step.post, *step.table, out, out_post)
        image = lambda a: torch.from_numpy(a).view(b, h, w, cout).permute(0, 3, 1, 2)  # noqa: E731
        if step.save:
            stack.append(image(out))
        return image(out_post) if step.post else image(out)


def _rows(t: torch.Tensor, width: int) -> np.ndarray:
    """A (B, C, H, W) tensor as channels-last rows (B*H*W, C) (a view when it is channels-last)."""
    return t.contiguous(memory_format=torch.channels_last).permute(0, 2, 3, 1).reshape(-1, width).numpy()


def _identity_above(program: Program, table_of) -> bool:
    """Whether every table of a lut ends at -1 and continues as the identity (ELU's shape)."""
    return all(t >= 0 and program.tables[t].low + len(program.tables[t].values) == 0
               and program.tables[t].slope_shift == 0 and program.tables[t].offset == 0 for t in table_of)


def flat_tables(program: Program, table_of) -> tuple:
    """A lut's tables as ``finish`` reads them: ``(values, offset, first, last)``, float32."""
    values, offset, first, last, placed, start = [], [], [], [], {}, 0
    for t in table_of:
        table = program.tables[t]
        if t not in placed:
            placed[t] = start
            values.append(table.values.astype(np.float32))
            start += len(table.values)
        offset.append(placed[t] - table.low)
        first.append(placed[t])
        last.append(placed[t] + len(table.values) - 1)
    as32 = lambda a: np.array(a, dtype=np.float32)  # noqa: E731
    return np.concatenate(values), as32(offset), as32(first), as32(last)


class ExactEngine:
    """``exact64`` behind the ``Engine`` interface: the fallback."""

    def __init__(self, program: Program, bound: int):
        check_bounds(program, -bound, bound)
        self.program, self.bound = program, bound

    def run(self, x: torch.Tensor) -> torch.Tensor:
        return exact64.run(self.program, x.double())


def verified(program: Program, bound: int, probe: torch.Tensor) -> Engine | ExactEngine:
    """The fast engine if it gives ``exact64``'s integers on ``probe`` (a small batch of inputs
    within ``bound``), else the exact one."""
    fast = Engine(program, bound)
    with exact_kernels():
        same = torch.equal(fast.run(probe).double(), exact64.run(program, probe.double()))
    return fast if same else ExactEngine(program, bound)


def lookup_tables(program: Program, table_of) -> tuple:
    """A lut's tables as ``kernels.lookup`` reads them (float64 values and per-channel fields)."""
    values, placed, fields = [], {}, {k: [] for k in ("start", "low", "length", "slope", "offset")}
    size = 0
    for t in table_of:
        table = program.tables[t] if t >= 0 else None
        if table is not None and t not in placed:
            placed[t], size = size, size + len(table.values)
            values.append(table.values.astype(np.float64))
        row = (placed[t], table.low, len(table.values), 2.0 ** table.slope_shift, table.offset) if table else (-1, 0, 0, 1, 0)
        for key, value in zip(fields, row):
            fields[key].append(value)
    values = np.concatenate(values) if values else np.zeros(1)
    return (values, np.array(fields["start"], dtype=np.int64), *(np.array(fields[k], dtype=np.float64)
                                                                   for k in ("low", "length", "slope", "offset")))


@contextlib.contextmanager
def exact_kernels():
    """torch settings under which the engine's float32 kernels are plain IEEE arithmetic:
    no NNPACK (Winograd), float32 matrix products at full precision."""
    precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.backends.nnpack.flags(enabled=False):
            yield
    finally:
        torch.set_float32_matmul_precision(precision)
