"""Codecs: push/pop pairs over a ``Message``, and the combinators that compose them.

A *codec* is ``Codec(push, pop)``: ``push(msg, symbols)`` puts symbols on the
message and ``pop(msg)`` takes them back (last in, first out). Both mutate
the message in place.

A *model family* (``DiscretizedLogistic``, ``Categorical``, ...) is built once
with its fixed settings (``precision``, number of symbols) and takes
per-symbol parameter arrays at push/pop time, as in constriction::

    family = DiscretizedLogistic(bit_depth=8, precision=16)
    family.push(msg, pixels, mean=m, scale=s)      # arrays of any shape
    pixels = family.pop(msg, mean=m, scale=s)      # same shape back
    codec = family(mean=m, scale=s)                # or bind them: a Codec

Within one call, symbols are flattened in C order and popped in that order
(push runs backwards). Every family also offers ``interval(symbols, **params)
-> (start, freq)`` (the integer intervals it codes with) and
``information_bits(symbols, **params)``, the exact quantized code length
``sum(precision - log2(freq))``.

Frequencies come from one Numba function per family used by both push and
pop: push evaluates the interval of the one symbol it needs, pop searches
the same cumulative function for the peeked ``cf``. Every symbol of the
support gets ``freq >= 1`` and the frequencies sum to exactly
``2**precision``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from vaezip.rans import Message, check_precision
from vaezip.rans.message import BadParameter  # noqa: F401  (re-exported for the families)
from vaezip.rans._jit import jit


class Codec(NamedTuple):
    """A push/pop pair: ``push(msg, symbols) -> None``, ``pop(msg) -> symbols``."""

    push: Callable[[Message, Any], None]
    pop: Callable[[Message], Any]


class Family:
    """Base of the model families: ``__call__`` binds parameters into a ``Codec``.

    Subclasses implement ``push(msg, symbols, **params)``,
    ``pop(msg, **params)`` and ``interval(symbols, **params)``.
    """

    precision: int

    def __call__(self, **params) -> Codec:
        return Codec(
            lambda msg, symbols: self.push(msg, symbols, **params),
            lambda msg: self.pop(msg, **params),
        )

    def push(self, msg: Message, symbols, **params) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def pop(self, msg: Message, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def interval(self, symbols, **params) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def information_bits(self, symbols, **params) -> float:
        """Exact code length of ``symbols`` under the quantized model, in bits."""
        _, freq = self.interval(symbols, **params)
        return float(np.sum(self.precision - np.log2(freq.astype(np.float64))))


def serial(*codecs: Codec) -> Codec:
    """Codecs in series: pushes a tuple of symbols, pops them back in order."""

    def push(msg: Message, symbols: Sequence[Any]) -> None:
        if len(symbols) != len(codecs):
            raise ValueError(f"serial codec expects {len(codecs)} items, got {len(symbols)}")
        for codec, item in zip(reversed(codecs), reversed(tuple(symbols))):
            codec.push(msg, item)

    def pop(msg: Message) -> tuple:
        return tuple(codec.pop(msg) for codec in codecs)

    return Codec(push, pop)


def repeat(codec: Codec, count: int) -> Codec:
    """The same codec ``count`` times: pushes a sequence of items, pops a list."""
    return serial(*([codec] * int(count)))


def batch(codecs: Callable[[int], Codec], count: int) -> Codec:
    """Item ``i`` of a batch coded with ``codecs(i)``; pops a list in order."""
    return serial(*(codecs(i) for i in range(int(count))))


# -- helpers shared by the families ------------------------------------------------
# The checks run as one fused Numba pass without temporaries: on 10**7
# symbols, numpy's min/max/isfinite/clip passes cost as much as coding them.
@jit
def _int_bounds(flat):
    lo, hi = flat[0], flat[0]
    for v in flat:
        lo = min(lo, v)
        hi = max(hi, v)
    return lo, hi


@jit
def _float_scan(flat, lower, upper):
    """``(first bad index or -1, needs clamping)``: bad is non-finite, or <= 0 when ``lower > 0``."""
    clamp = False
    for i in range(flat.shape[0]):
        v = flat[i]
        if not (-np.inf < v < np.inf) or (lower > 0.0 and v <= 0.0):
            return i, clamp
        if v < lower or v > upper:
            clamp = True
    return -1, clamp


def flat_ints(symbols, name: str = "symbols") -> np.ndarray:
    """Symbols as a flat contiguous int64 array (no range check: kernels that check do it)."""
    flat = np.ascontiguousarray(symbols).ravel()
    if flat.dtype.kind not in "iub":
        raise ValueError(f"{name} must be integers, got dtype {flat.dtype}")
    return flat.astype(np.int64, copy=False)


def flat_floats(value, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A parameter broadcast to ``shape``, as flat contiguous float64 (no value check)."""
    arr = np.asarray(value, dtype=np.float64)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {np.shape(value)} does not broadcast to {shape}") from None
    return np.ascontiguousarray(arr).ravel()


def as_symbols(symbols, n: int, name: str = "symbols") -> np.ndarray:
    """Symbols as a flat int64 array, each checked to lie in ``[0, n)``."""
    flat = np.ascontiguousarray(symbols).ravel()
    if flat.dtype.kind not in "iub":
        raise ValueError(f"{name} must be integers, got dtype {flat.dtype}")
    flat = flat.astype(np.int64, copy=False)
    if flat.size:
        lo, hi = _int_bounds(flat)
        if lo < 0 or hi >= n:
            raise ValueError(f"{name} must lie in [0, {n}); got values in [{lo}, {hi}]")
    return flat


def as_params(value, shape: tuple[int, ...], name: str, positive_range: tuple[float, float] | None = None):
    """A parameter broadcast to ``shape``, flattened to contiguous float64, checked finite.

    With ``positive_range=(lo, hi)`` the values must also be positive and are
    clamped to ``[lo, hi]`` (the same clamp on the compress and decompress side).
    """
    flat = flat_floats(value, shape, name)
    lower, upper = positive_range or (-np.inf, np.inf)
    if flat.size:
        bad, clamp = _float_scan(flat, lower, upper)
        if bad >= 0:
            raise ValueError(f"{name} must be {'positive and ' if positive_range else ''}finite, got {flat[bad]}")
        if clamp:
            flat = np.clip(flat, lower, upper)
    return flat


def run_intervals(kernel, x: np.ndarray, shape, *args) -> tuple[np.ndarray, np.ndarray]:
    """``(start, freq)`` arrays of ``shape``: what an interval kernel ``kernel(x, *args, starts, freqs)``
    writes for the flat symbols ``x``."""
    starts = np.empty(x.size, dtype=np.int64)
    freqs = np.empty(x.size, dtype=np.int64)
    kernel(x, *args, starts, freqs)
    return starts.reshape(shape), freqs.reshape(shape)


def checked_precision(precision: int, support: int) -> int:
    """``precision`` validated for a support of ``support`` symbols (needs 2*support <= 2**precision)."""
    precision = check_precision(precision)
    if 2 * support > 1 << precision:
        raise ValueError(
            f"precision {precision} is too small for {support} symbols: need 2**precision >= {2 * support}"
        )
    return precision


__all__ = ["Codec", "Family", "serial", "repeat", "batch", "as_symbols", "as_params", "checked_precision",
           "run_intervals"]
