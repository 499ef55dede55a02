"""``Planar``: the model-free coder as a codec family (push a plane, pop it by its shape)."""

from __future__ import annotations

import numpy as np

from vaezip.codecs.base import Family
from vaezip.codecs.planar.pop import pop_plane
from vaezip.codecs.planar.push import MASK16, intervals, push_packed
from vaezip.codecs.planar.tables import PRECISION

MAX_BIT_DEPTH = 16
MAX_PIXELS = 1 << 31


def _check_shape(shape) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (height, width), got {shape!r}") from None
    if h < 1 or w < 1 or h * w >= MAX_PIXELS:
        raise ValueError(f"a plane needs 1 <= height, width and fewer than 2**31 pixels; got {h} x {w}")
    return h, w


class Planar(Family):
    """Model-free lossless coder for one 2-D plane of ``bit_depth``-bit integers.

    ``push(msg, plane)`` codes an ``(H, W)`` integer array with values in
    ``[0, 2**bit_depth)``; ``pop(msg, shape=(H, W))`` returns it (uint8 for
    bit depths up to 8, else uint16). Median-edge prediction, run mode on
    flat neighbourhoods and adaptive residual tables; see the module
    docstring for the exact model. Every symbol is coded at ``PRECISION``.

    Example::

        codec = Planar(8)
        msg = Message()
        codec.push(msg, plane)
        assert (codec.pop(msg, shape=plane.shape) == plane).all()
    """

    precision = PRECISION

    def __init__(self, bit_depth: int = 8):
        if not isinstance(bit_depth, (int, np.integer)) or not 1 <= bit_depth <= MAX_BIT_DEPTH:
            raise ValueError(f"bit_depth must be an integer in 1..{MAX_BIT_DEPTH}, got {bit_depth!r}")
        self.bit_depth = int(bit_depth)

    def __repr__(self) -> str:
        return f"Planar(bit_depth={self.bit_depth})"

    def _plane(self, plane) -> np.ndarray:
        arr = np.asarray(plane)
        if arr.ndim != 2:
            raise ValueError(f"a plane must be 2-D (height, width), got shape {arr.shape}")
        if arr.dtype.kind not in "iub":
            raise ValueError(f"plane values must be integers, got dtype {arr.dtype}")
        _check_shape(arr.shape)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= 1 << self.bit_depth:
            raise ValueError(
                f"plane values must lie in [0, {1 << self.bit_depth}) for bit_depth {self.bit_depth}; "
                f"got values in [{lo}, {hi}]"
            )
        return np.ascontiguousarray(arr, dtype=np.int32)

    def _symbols(self, img: np.ndarray) -> tuple[np.ndarray, int]:
        """Packed intervals of every symbol, in coding order, and their count."""
        size = img.size
        buf = np.empty(2 * size + 2 * img.shape[0] + 16, dtype=np.uint32)
        count = intervals(img, self.bit_depth, buf)
        if count < 0:  # many short runs: at most 4 symbols per pixel
            buf = np.empty(4 * size + 16, dtype=np.uint32)
            count = intervals(img, self.bit_depth, buf)
        return buf, count

    def push(self, msg, symbols, *, shape=None) -> None:
        """Push the plane ``symbols``; ``pop`` with its shape returns it.

        ``shape``, if given (as when the family is bound with ``Planar(d)(shape=...)``),
        must be the plane's shape.
        """
        img = self._plane(symbols)
        if shape is not None and _check_shape(shape) != img.shape:
            raise ValueError(f"plane of shape {img.shape} does not match shape {tuple(shape)}")
        buf, count = self._symbols(img)
        msg.run_push(push_packed, count, buf, count)

    def pop(self, msg, *, shape) -> np.ndarray:
        """Pop a plane of ``shape`` (its height and width are not stored in the message)."""
        h, w = _check_shape(shape)
        img = np.empty((h, w), dtype=np.int32)
        msg.run_pop(pop_plane, self.bit_depth, img)
        return img.astype(np.uint8 if self.bit_depth <= 8 else np.uint16)

    def interval(self, symbols) -> tuple[np.ndarray, np.ndarray]:
        """``(start, freq)`` of every coded symbol in coding order (not one per pixel: runs
        take fewer, pixels with raw bits two)."""
        buf, count = self._symbols(self._plane(symbols))
        packed = buf[:count].astype(np.int64)
        return packed & MASK16, packed >> PRECISION
