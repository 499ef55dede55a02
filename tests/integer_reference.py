"""A plain integer reference of integer networks: numpy int64 and loops, nothing else.

It follows ``docs/format.md`` ("Integer networks") word for word and shares
no code with ``vaezip.models.integer``'s engines (only the data classes): the
fast engine, the float64 engine and the Numba head must all equal it.
"""

from __future__ import annotations

import numpy as np


def requant(acc: np.ndarray, op, channel_axis: int) -> np.ndarray:
    """``clamp(floor((acc + bias + half) / 2**shift), -limit, limit)``, with an arithmetic shift."""
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    shift = op.shift.astype(np.int64).reshape(shape)
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    y = np.right_shift(acc + op.bias.astype(np.int64).reshape(shape) + half, shift)
    return np.clip(y, -op.limit, op.limit)


def conv(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """(B, C, H, W) * (O, C, k, k) -> (B, O, H', W'), zero padding, a loop over the kernel taps."""
    b, c, h, width = x.shape
    o, _, k, _ = w.shape
    xp = np.zeros((b, c, h + 2 * padding, width + 2 * padding), dtype=np.int64)
    xp[:, :, padding:padding + h, padding:padding + width] = x
    oh, ow = (h + 2 * padding - k) // stride + 1, (width + 2 * padding - k) // stride + 1
    out = np.zeros((b, o, oh, ow), dtype=np.int64)
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]  # (B, C, oh, ow)
            out += np.einsum("bchw,oc->bohw", patch, w[:, :, i, j].astype(np.int64))
    return out


def conv_transpose(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """(B, C, H, W) with weight (C, O, k, k): every input pixel scatters its taps."""
    b, c, h, width = x.shape
    _, o, k, _ = w.shape
    full = np.zeros((b, o, (h - 1) * stride + k, (width - 1) * stride + k), dtype=np.int64)
    for i in range(k):
        for j in range(k):
            contribution = np.einsum("bchw,co->bohw", x, w[:, :, i, j].astype(np.int64))
            full[:, :, i:i + stride * h:stride, j:j + stride * width:stride] += contribution
    oh, ow = (h - 1) * stride - 2 * padding + k, (width - 1) * stride - 2 * padding + k
    return full[:, :, padding:padding + oh, padding:padding + ow]


def lut(x: np.ndarray, tables, table_of) -> np.ndarray:
    out = x.copy()
    for c, t in enumerate(table_of):
        if t < 0:
            continue
        table = tables[t]
        v = x[:, c]
        n = len(table.values)
        inside = table.values[np.clip(v - table.low, 0, n - 1)]
        out[:, c] = np.where(v < table.low + n, inside, v * (1 << table.slope_shift) + table.offset)
    return out


def run(program, x: np.ndarray) -> np.ndarray:
    """The program on int64 inputs ``x`` (B, ...)."""
    x = np.asarray(x, dtype=np.int64)
    stack = []
    for op in program.ops:
        if op.kind == "conv":
            x = requant(conv(x, op.weight, op.stride, op.padding), op, 1)
        elif op.kind == "conv_transpose":
            x = requant(conv_transpose(x, op.weight, op.stride, op.padding), op, 1)
        elif op.kind == "linear":
            x = requant(x @ op.weight.astype(np.int64).T, op, 1)
        elif op.kind == "lut":
            x = lut(x, program.tables, op.table_of)
        elif op.kind == "relu":
            x = np.maximum(x, 0)
        elif op.kind == "save":
            stack.append(x)
        elif op.kind == "add":
            x = np.clip(stack.pop() + x, -op.limit, op.limit)
        elif op.kind == "flatten":
            x = x.reshape(len(x), -1)
        elif op.kind == "unflatten":
            x = x.reshape(len(x), *op.shape)
    return x


def head(h, n_values: int, features: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The integer head's raw parameters (B, P, H, W), pixel by pixel in raster order, reading
    only pixels already visited (as a decoder must)."""
    batch, channels, height, width = features.shape
    out = np.zeros((batch, h.out.weight.shape[0], height, width), dtype=np.int64)
    for b in range(batch):
        t = np.zeros((height, width), dtype=np.int64)
        for i in range(height):
            for j in range(width):
                a = features[b, :, i, j].astype(np.int64) * (1 << h.feature_shift)
                for (dy, dx), w in zip(h.offsets, h.conv):
                    y, x = i + dy, j + dx
                    if 0 <= y < height and 0 <= x < width:
                        a = a + w.astype(np.int64) * t[y, x]
                a = np.maximum(a, 0)
                for op in h.layers:
                    a = np.maximum(requant((op.weight.astype(np.int64) @ a)[None], op, 1)[0], 0)
                out[b, :, i, j] = requant((h.out.weight.astype(np.int64) @ a)[None], h.out, 1)[0]
                t[i, j] = 2 * int(pixels[b, i, j]) - (n_values - 1)
    return out
