"""Integer programs: what an integer network computes, and the bounds that make it exact.

A network that feeds the coder is a *program*: a list of operations on
integer tensors (``docs/format.md``, "Integer networks"). Every value is an
integer; every layer rescales its exact sum by a power of two with one
rounding rule; nonlinearities are tables. A program is therefore a pure
function of its integer input, the same on every machine, and any engine
that computes each sum exactly (in any order, with FMA or not) gets it bit
for bit.

Operations (``Op.kind``), on a tensor ``x`` of shape (C, H, W) per image, or
(N,) for a vector:

``conv``
    ``acc[o, y, x] = sum over c, i, j of weight[o, c, i, j] * xp[c, s*y + i, s*x + j]``
    (``xp``: x with ``padding`` zeros around it, ``s``: ``stride``), then ``requant``.
``conv_transpose``
    ``acc[o, y, x] = sum over c, i, j with s*i' - padding + i = y and s*j' - padding + j = x
    of weight[c, o, i, j] * x[c, i', j']`` (``torch.nn.ConvTranspose2d``), then ``requant``.
``linear``
    ``acc[o] = sum_c weight[o, c] * x[c]``, then ``requant``.
``requant`` (the end of the three above)
    ``y = clamp(floor((acc + bias[o] + r[o]) / 2**shift[o]), -limit, limit)``,
    ``r[o] = 2**(shift[o] - 1)`` when ``shift[o] > 0`` (round half up), else 0.
``lut``
    per channel ``c`` with the table ``t = tables[table_of[c]]`` (``-1``: identity):
    ``y = t.values[clip(x - t.low, 0, len - 1)]`` for ``x < t.low + len``,
    else ``y = x * 2**t.slope_shift + t.offset``.
``relu``
    ``max(x, 0)``.
``save`` / ``add``
    push ``x`` on a stack / ``y = clamp(pop() + x, -limit, limit)`` (residual blocks).
``flatten`` / ``unflatten``
    (C, H, W) -> (C*H*W,) in C order, and back to ``shape``.

``input_bounds`` and ``check_bounds`` follow the clamps and tables through a
program and bound, per layer and output channel, every partial sum any
summation order can form; a program whose bound reaches ``EXACT_LIMIT``
(2**53, where float64 stops holding every integer) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EXACT_LIMIT = 1 << 53
AFFINE = ("conv", "conv_transpose", "linear")
KINDS = AFFINE + ("lut", "relu", "save", "add", "flatten", "unflatten")
MAX_SHIFT = 62
MAX_WEIGHT = 1 << 31  # weights and tensor bounds stay below this: int64 bound arithmetic is exact


class ProgramError(ValueError):
    """A program that is malformed or could leave the exact range."""


@dataclass(frozen=True)
class Table:
    """``values`` for ``low <= x < low + len`` (``values[0]`` below), ``x * 2**slope_shift + offset`` above."""

    low: int
    values: np.ndarray  # int64
    slope_shift: int = 0
    offset: int = 0

    def apply(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        n = len(self.values)
        inside = self.values[np.clip(x - self.low, 0, n - 1)]
        return np.where(x < self.low + n, inside, x * (1 << self.slope_shift) + self.offset)

    def range(self, lo: int, hi: int) -> tuple[int, int]:
        """The smallest and largest output for inputs in ``[lo, hi]``."""
        top = self.low + len(self.values)  # the first input past the table
        outs = []
        if lo < top:
            a = min(max(lo, self.low), top - 1) - self.low
            b = min(max(hi, self.low), top - 1) - self.low
            part = self.values[a:b + 1]
            outs += [int(part.min()), int(part.max())]
        if hi >= top:
            outs += [max(lo, top) * (1 << self.slope_shift) + self.offset, hi * (1 << self.slope_shift) + self.offset]
        return min(outs), max(outs)


@dataclass
class Op:
    """One operation; ``weight``/``bias``/``shift``/``limit`` for affine ones (see the module docstring)."""

    kind: str
    weight: np.ndarray | None = None  # int64
    bias: np.ndarray | None = None  # int64, (C_out,)
    shift: np.ndarray | None = None  # int64, (C_out,), 0..MAX_SHIFT
    limit: int = 0  # outputs are clamped to [-limit, limit] (affine ops, add)
    stride: int = 1
    padding: int = 0
    table_of: np.ndarray | None = None  # lut: int64 (C,), -1 = identity
    shape: tuple = ()  # unflatten

    @property
    def in_channels(self) -> int:
        return self.weight.shape[0] if self.kind == "conv_transpose" else self.weight.shape[1]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[1] if self.kind == "conv_transpose" else self.weight.shape[0]


@dataclass
class Program:
    """A network: ``ops`` applied in order, ``tables`` shared by its ``lut`` ops."""

    ops: list[Op]
    tables: list[Table] = field(default_factory=list)


# -- bounds ---------------------------------------------------------------------------
# A tensor's bound is a pair (low, high) of per-channel int64 arrays, low <= 0 <= high.
# A partial sum of terms w_i * x_i (any subset, any order) with x_i in [low_i, high_i]
# lies between minus the sum of the terms' largest negative values and the sum of their
# largest positive values, so its magnitude is at most
#     max(sum_i max(w_i high_i, w_i low_i, 0), sum_i max(-w_i high_i, -w_i low_i, 0)).
# int64 is exact here: |weight| and |bound| below 2**31, fewer than 2**31 terms.
def term_extremes(weight: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per term, its largest positive and largest negative value (both >= 0)."""
    w = weight.astype(np.int64)
    pos = np.maximum(np.maximum(w * high, w * low), 0)
    neg = np.maximum(np.maximum(-w * high, -w * low), 0)
    return pos, neg


def sum_bounds(op: Op, low: np.ndarray, high: np.ndarray, with_bias: bool = True) -> np.ndarray:
    """Per output channel, the largest magnitude a partial sum of ``op`` reaches for inputs in
    ``[low, high]`` (per input channel), plus (``with_bias``) |bias| and the rounding half."""
    w = op.weight.astype(np.int64)
    if op.kind == "linear":
        pos, neg = term_extremes(w, low[None, :], high[None, :])
        sums = np.maximum(pos.sum(axis=1), neg.sum(axis=1))
    elif op.kind == "conv":
        pos, neg = term_extremes(w, low[None, :, None, None], high[None, :, None, None])
        sums = np.maximum(pos.reshape(len(w), -1).sum(axis=1), neg.reshape(len(w), -1).sum(axis=1))
    else:  # conv_transpose: an output pixel sees, per input channel, the taps of one phase
        pos, neg = term_extremes(w, low[:, None, None, None], high[:, None, None, None])
        sums = np.zeros(w.shape[1], dtype=np.int64)
        s = op.stride
        for py in range(s):
            for px in range(s):
                phase = (pos[:, :, py::s, px::s].sum(axis=(0, 2, 3)), neg[:, :, py::s, px::s].sum(axis=(0, 2, 3)))
                sums = np.maximum(sums, np.maximum(*phase))
    if with_bias:
        sums = sums + np.abs(op.bias) + rounding_half(op.shift)
    return sums


def rounding_half(shift: np.ndarray) -> np.ndarray:
    """``2**(shift - 1)`` where ``shift > 0``, else 0 (int64)."""
    shift = np.asarray(shift, dtype=np.int64)
    return np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)


def input_bounds(program: Program, low, high) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per op, the per-channel ``(low, high)`` of the tensor it reads, from the program's input
    bounds ``low``/``high`` (scalars or per channel); ProgramError if an op is malformed."""
    bounds, _, stack = walk(program, low, high)
    if stack:
        raise ProgramError("a saved tensor is never added")
    return bounds


def walk(program: Program, low, high):
    """``(bounds read by each op, bound of the output, saved bounds left)`` (also of a partial program)."""
    bounds, stack = [], []
    current = (np.atleast_1d(np.asarray(low, dtype=np.int64)), np.atleast_1d(np.asarray(high, dtype=np.int64)))
    flattened = False
    for index, op in enumerate(program.ops):
        if op.kind not in KINDS:
            raise ProgramError(f"op {index}: unknown kind {op.kind!r}")
        if op.kind in AFFINE:
            current = _fit_inputs(index, op, current, flattened)
        bounds.append(current)
        current = output_bound(program, index, op, current, stack)
        if op.kind == "flatten":
            flattened = True
        elif op.kind != "lut":
            flattened = False
    return bounds, current, stack


def _fit_inputs(index: int, op: Op, current, flattened: bool):
    check_affine(index, op)
    cin = op.in_channels
    low, high = current
    if len(low) == 1 and cin > 1 and not flattened:
        low, high = np.repeat(low, cin), np.repeat(high, cin)
    elif flattened and len(low) != cin and cin % len(low) == 0:
        low, high = np.repeat(low, cin // len(low)), np.repeat(high, cin // len(low))  # (C, H, W) -> C*H*W
    if len(low) != cin:
        raise ProgramError(f"op {index}: expects {cin} input channels, gets {len(low)}")
    return low, high


def output_bound(program: Program, index: int, op: Op, current, stack: list):
    """The bounds of ``op``'s output given those of its input (``stack``: the saved bounds)."""
    low, high = current
    if op.kind in AFFINE or op.kind == "add":
        if op.kind == "add" and not stack:
            raise ProgramError(f"op {index}: add without save")
        if op.kind == "add" and len(stack.pop()[0]) != len(low):
            raise ProgramError(f"op {index}: adds tensors of different channels")
        channels = op.out_channels if op.kind in AFFINE else len(low)
        if not 0 < op.limit < MAX_WEIGHT:
            raise ProgramError(f"op {index}: clamp limit must be in 1..2^31-1")
        return np.full(channels, -op.limit, dtype=np.int64), np.full(channels, op.limit, dtype=np.int64)
    if op.kind == "lut":
        return _lut_bound(program, op, current, index)
    if op.kind == "relu":
        return np.zeros_like(low), np.maximum(high, 0)
    if op.kind == "save":
        stack.append(current)
    elif op.kind == "unflatten":
        channels = op.shape[0] if op.shape else 0
        if channels < 1 or len(low) % channels:
            raise ProgramError(f"op {index}: cannot unflatten {len(low)} features into shape {op.shape}")
        return low.reshape(channels, -1).min(axis=1), high.reshape(channels, -1).max(axis=1)
    return current


def check_bounds(program: Program, low, high, limit: int = EXACT_LIMIT) -> list[np.ndarray]:
    """Per affine op, its per-output-channel partial-sum bounds; ProgramError if any reaches ``limit``."""
    out = []
    for index, (op, (lo, hi)) in enumerate(zip(program.ops, input_bounds(program, low, high))):
        if op.kind not in AFFINE:
            continue
        if np.abs(op.weight).max(initial=0) >= MAX_WEIGHT or max(-int(lo.min()), int(hi.max())) >= MAX_WEIGHT:
            raise ProgramError(f"op {index}: weights and inputs must stay below 2^31")
        sums = sum_bounds(op, lo, hi)
        worst = int(sums.max())
        if worst >= limit:
            raise ProgramError(
                f"op {index} ({op.kind}): a partial sum could reach 2^{worst.bit_length() - 1}, "
                f"beyond the exact range 2^{limit.bit_length() - 1}"
            )
        out.append(sums)
    return out


def check_affine(index: int, op: Op) -> None:
    """ProgramError unless ``op``'s arrays have the shapes and ranges the spec allows."""
    ndim = 2 if op.kind == "linear" else 4
    if op.weight is None or op.weight.ndim != ndim:
        raise ProgramError(f"op {index}: {op.kind} needs a {ndim}-d weight")
    cout = op.out_channels
    for name in ("bias", "shift"):
        arr = getattr(op, name)
        if arr is None or arr.shape != (cout,):
            raise ProgramError(f"op {index}: {name} must have shape ({cout},)")
    if np.any(op.shift < 0) or np.any(op.shift > MAX_SHIFT):
        raise ProgramError(f"op {index}: shifts must be in 0..{MAX_SHIFT}")
    if np.abs(op.bias).max(initial=0) >= EXACT_LIMIT:
        raise ProgramError(f"op {index}: a bias beyond the exact range")
    if op.kind != "linear" and (op.stride < 1 or op.padding < 0 or op.weight.shape[2] != op.weight.shape[3]):
        raise ProgramError(f"op {index}: a convolution needs square kernels, stride >= 1, padding >= 0")


def _lut_bound(program: Program, op: Op, current, index: int):
    low, high = current
    if op.table_of is None or len(op.table_of) != len(low):
        raise ProgramError(f"op {index}: lut needs one table entry per channel")
    out_low, out_high = low.copy(), high.copy()
    for c, t in enumerate(op.table_of):
        if t < 0:
            continue
        if t >= len(program.tables):
            raise ProgramError(f"op {index}: table {t} does not exist")
        out_low[c], out_high[c] = program.tables[t].range(int(low[c]), int(high[c]))
        if max(-int(out_low[c]), int(out_high[c])) >= EXACT_LIMIT:
            raise ProgramError(f"op {index}: a table's output could leave the exact range")
    return out_low, out_high
