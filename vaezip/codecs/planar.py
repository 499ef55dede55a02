"""A model-free coder for one image plane: median-edge prediction, adaptive residual tables.

``Planar(bit_depth)`` codes a 2-D integer plane of any shape ``(H, W)`` with
values in ``[0, 2**bit_depth)``, ``bit_depth`` 1..16, through the same rANS
``Message`` as the model codecs and with no trained model. It is what vaezip
falls back to for planes the VAE would code badly (photos, screenshots,
16-bit scans, alpha and palette-index planes, 1-bit images), in the spirit
of LOCO-I / JPEG-LS, but with adaptive integer frequency tables instead of
Golomb codes. Pixels are coded in raster order; every decision below is made
from pixels already coded, identically on both sides, in integers only.

Neighbours and prediction. ``a, b, c, d`` are the W, N, NW and NE neighbours.
Outside the plane they are *virtual*: on row 0, ``b = d = a`` and ``c`` is
the pixel two to the left (so the row is predicted from W and is "flat"
where two equal pixels precede); in column 0, ``a = c = b``; in the last
column, ``d = b``; the very first pixel sees ``2**(bit_depth - 1)``
everywhere. The prediction is the median edge detector::

    pred = min(a, b) if c >= max(a, b) else max(a, b) if c <= min(a, b) else a + b - c

Run mode. Where ``a == b == c == d`` (a flat neighbourhood) the coder codes a
run of pixels equal to ``a`` instead of single pixels, as JPEG-LS does. A
run index ``k`` (kept across rows) gives a block length ``2**RUN_BLOCK_BITS[k]``;
one adaptive binary symbol (table ``k``) says whether the run covers the
next ``m = min(block, pixels left in the row)`` pixels (``k`` grows) or stops
inside them; then the number of run pixels before the stop is coded
uniformly over ``[0, m)`` (``k`` shrinks), and the pixel that stopped the run
is coded as a regular pixel under its own table (it is never equal to the
run value, and that table learns so). A run also stops at the end of a row.
A constant plane therefore costs about one binary symbol of a few
thousandths of a bit per row.

Regular pixels. The residual ``x - pred`` is reduced modulo ``2**bit_depth``
into ``[-2**(bit_depth-1), 2**(bit_depth-1))`` and folded to ``u >= 0``
(0, -1, 1, -2, ... -> 0, 1, 2, 3, ...). ``u`` is split into a *token* and raw
low bits: ``u < 16`` is its own token; otherwise, with ``u`` in ``[2**e,
2**(e+1))``, the token names ``e`` and the two bits below the leading one,
and the ``e - 2`` lower bits are coded uniformly. There are at most 64
tokens (16 bits), so the tables stay small and fast for every depth.
The token is coded with an adaptive table chosen by a *context*:

- bit depths 2..16: ``2 * bit_length(g) + (next bit of g)`` of the local
  activity ``g = |d - b| + |b - c| + |c - a| + |e_W|`` (``e_W`` the folded
  residual of the pixel to the left, 0 after a run), capped; log-spaced,
  so the same contexts serve 8- and 16-bit content;
- bit depth 1: the values of ten neighbours (the 3-line template of JBIG:
  two to the left, five above, three two rows up; 0 outside the plane).

Adaptive tables. Each table holds ``K + 1`` cumulative counts ``cdf[0] = 0 <=
cdf[1] <= ... <= cdf[K] = 2**CDF_BITS``. After coding symbol ``s`` every
entry moves toward the cdf of a point mass at ``s``::

    cdf[t] += ((2**CDF_BITS if t > s else 0) - cdf[t]) >> rate

with an arithmetic (flooring) shift. That map is non-decreasing in
``cdf[t]``, keeps ``cdf[0] = 0`` and ``cdf[K] = 2**CDF_BITS``, and keeps the
entries in order. ``rate = min(RATE_MAX, bit_length(count + RATE_PRIOR))``
grows with the table's use ``count``, so a young table averages like a
counter and an old one follows the image with a window of about
``2**RATE_MAX`` symbols. At coding time the table is mapped onto
``[0, 2**PRECISION)`` with::

    C(t) = (cdf[t] * (2**PRECISION - K)) >> CDF_BITS  +  t

so ``C(0) = 0``, ``C(K) = 2**PRECISION`` and every symbol gets ``freq =
C(t+1) - C(t) >= 1``. Raw bits, run lengths and binary run symbols are
intervals of the same ``[0, 2**PRECISION)``.

Push runs the model over the known plane once, collecting every symbol's
``(start, freq)``, then pushes them in reverse; pop decodes in raster order,
updating the same model through the same functions. Truncated data raises
``FormatError`` from the pop; corrupt data decodes to *some* plane (never
out of range, never a hang) and is caught by ``Message.finish`` or the
container's checksum.
"""

from __future__ import annotations

import numpy as np

from vaezip.codecs.base import Family
from vaezip.rans import kernels as rk
from vaezip.rans._jit import jit

PRECISION = 16  # every symbol is an interval of [0, 2**PRECISION)
CDF_BITS = 16  # adaptive tables sum to 2**CDF_BITS
RATE_MAX = 7  # slowest adaptation: about 2**RATE_MAX symbols of memory
RATE_PRIOR = 2  # weight of the initial uniform table, in symbols
MAX_BIT_DEPTH = 16
MAX_PIXELS = 1 << 31

DIRECT_TOKENS = 16  # u < 16 is its own token
MANTISSA_BITS = 2  # bits below the leading one that go into the token
NUM_ACTIVITY = 36  # contexts of bit depths 2..16 (2 per octave of activity)
BINARY_TEMPLATE = 10  # neighbours in the bit-depth-1 context
NUM_RUN_TABLES = 32
# block length of run index k is 2**RUN_BLOCK_BITS[k]: 1, 1, 2, 2, 4, 4, ... 2**15
RUN_BLOCK_BITS = np.minimum(np.arange(NUM_RUN_TABLES) // 2, 15).astype(np.int64)
RUN_K_MAX = NUM_RUN_TABLES - 1

_CDF_TOTAL = 1 << CDF_BITS
_MASK16 = (1 << PRECISION) - 1


def num_tokens(bit_depth: int) -> int:
    """Number of residual tokens at ``bit_depth``: ``2**bit_depth`` up to 16, then 4 per extra bit."""
    if bit_depth <= 4:
        return 1 << bit_depth
    return DIRECT_TOKENS + (bit_depth - 4) * (1 << MANTISSA_BITS)


def num_contexts(bit_depth: int) -> int:
    """Number of token tables (the last one codes the pixels that stop a run)."""
    return (1 << BINARY_TEMPLATE if bit_depth == 1 else NUM_ACTIVITY) + 1


# -- small integer helpers ----------------------------------------------------------
@jit
def _bit_length(v):
    """Number of bits of ``v`` in ``[0, 2**32)`` (0 for 0)."""
    n = 0
    if v >= 65536:
        v >>= 16
        n += 16
    if v >= 256:
        v >>= 8
        n += 8
    if v >= 16:
        v >>= 4
        n += 4
    if v >= 4:
        v >>= 2
        n += 2
    if v >= 2:
        v >>= 1
        n += 1
    return n + v


@jit
def _tokenize(u):
    """``(token, raw_bits, raw)`` of a folded residual ``u``."""
    if u < DIRECT_TOKENS:
        return u, 0, 0
    e = _bit_length(u) - 1  # >= 4
    nb = e - MANTISSA_BITS
    token = DIRECT_TOKENS + ((e - 4) << MANTISSA_BITS) + ((u >> nb) & ((1 << MANTISSA_BITS) - 1))
    return token, nb, u & ((1 << nb) - 1)


@jit
def _raw_bits(token):
    """Number of raw bits that follow ``token``."""
    if token < DIRECT_TOKENS:
        return 0
    return ((token - DIRECT_TOKENS) >> MANTISSA_BITS) + 4 - MANTISSA_BITS


@jit
def _untokenize(token, raw):
    if token < DIRECT_TOKENS:
        return token
    t = token - DIRECT_TOKENS
    nb = (t >> MANTISSA_BITS) + 4 - MANTISSA_BITS
    return (((1 << MANTISSA_BITS) | (t & ((1 << MANTISSA_BITS) - 1))) << nb) | raw


@jit
def _fold(x, pred, depth):
    """Residual of ``x`` modulo ``2**depth``, folded to ``u >= 0``."""
    half = 1 << (depth - 1)
    e = ((x - pred + half) & ((1 << depth) - 1)) - half
    return 2 * e if e >= 0 else -2 * e - 1


@jit
def _unfold(u, pred, depth):
    e = (u >> 1) ^ -(u & 1)
    return (pred + e) & ((1 << depth) - 1)


# -- adaptive tables ----------------------------------------------------------------
@jit
def _new_tables(count, nsym):
    """``count`` uniform tables over ``nsym`` symbols and their use counts."""
    cdf = np.empty((count, nsym + 1), dtype=np.int64)
    for t in range(nsym + 1):
        cdf[:, t] = (t * _CDF_TOTAL) // nsym
    return cdf, np.zeros(count, dtype=np.int64)


@jit
def _start(cdf, t, nsym):
    """C(t): the start of symbol ``t`` in ``[0, 2**PRECISION)``."""
    return ((cdf[t] * ((1 << PRECISION) - nsym)) >> CDF_BITS) + t


@jit
def _adapt(cdf, uses, row, s, nsym):
    """Move table ``row`` toward symbol ``s`` (see the module docstring)."""
    n = uses[row]
    rate = min(RATE_MAX, _bit_length(n + RATE_PRIOR))
    uses[row] = n + 1 if n < _CDF_TOTAL else n
    tab = cdf[row]
    for t in range(1, nsym):
        target = _CDF_TOTAL if t > s else 0
        tab[t] += (target - tab[t]) >> rate


@jit
def _find(cdf, cf, nsym):
    """The symbol ``t`` with ``C(t) <= cf < C(t+1)`` (``C(nsym) > cf`` stops the scan)."""
    t = 0
    while _start(cdf, t + 1, nsym) <= cf:
        t += 1
    return t


@jit
def _uniform_start(c, m):
    return (c << PRECISION) // m


# -- the context model, shared by push and pop ---------------------------------------
@jit
def _neighbours(img, i, j, mid):
    """Virtual-edge neighbours ``a, b, c, d`` (W, N, NW, NE) of pixel (i, j); see the module docstring."""
    width = img.shape[1]
    if i == 0:
        if j == 0:
            return mid, mid, mid, mid
        a = img[0, j - 1]
        return a, a, (img[0, j - 2] if j >= 2 else a), a
    b = img[i - 1, j]
    if j == 0:
        a = b
        c = b
    else:
        a = img[i, j - 1]
        c = img[i - 1, j - 1]
    d = img[i - 1, j + 1] if j + 1 < width else b
    return a, b, c, d


@jit
def _med(a, b, c):
    lo = min(a, b)
    hi = max(a, b)
    if c >= hi:
        return lo
    if c <= lo:
        return hi
    return a + b - c


@jit
def _activity_context(a, b, c, d, u_w):
    g = abs(d - b) + abs(b - c) + abs(c - a) + u_w
    n = _bit_length(g)
    q = 2 * n + ((g >> (n - 2)) & 1 if n >= 2 else 0)
    return min(q, NUM_ACTIVITY - 1)


@jit
def _binary_context(img, i, j):
    """Ten-neighbour template of a bit-depth-1 plane (0 outside the plane)."""
    width = img.shape[1]
    q = 0
    for dj in (1, 2):
        q = (q << 1) | (img[i, j - dj] if j >= dj else 0)
    if i >= 1:
        for dj in (-2, -1, 0, 1, 2):
            jj = j + dj
            q = (q << 1) | (img[i - 1, jj] if 0 <= jj < width else 0)
    else:
        q <<= 5
    if i >= 2:
        for dj in (-1, 0, 1):
            jj = j + dj
            q = (q << 1) | (img[i - 2, jj] if 0 <= jj < width else 0)
    else:
        q <<= 3
    return q


@jit
def _model(img, i, j, depth, u_w):
    """``(pred, context, flat)`` of pixel (i, j) from the pixels before it."""
    a, b, c, d = _neighbours(img, i, j, 1 << (depth - 1))
    pred = _med(a, b, c)
    flat = a == b and b == c and c == d
    if depth == 1:
        return pred, _binary_context(img, i, j), flat
    return pred, _activity_context(a, b, c, d, u_w), flat


# -- push: the model over the known plane, then the intervals in reverse -------------------
@jit
def _emit(buf, n, start, freq):
    buf[n] = start | (freq << PRECISION)
    return n + 1


@jit
def _emit_table(buf, n, cdf, uses, row, s, nsym):
    start = _start(cdf[row], s, nsym)
    n = _emit(buf, n, start, _start(cdf[row], s + 1, nsym) - start)
    _adapt(cdf, uses, row, s, nsym)
    return n


@jit
def _emit_pixel(buf, n, x, pred, depth, cdf, uses, row, nsym):
    """Code one regular pixel; returns ``(n, u)``."""
    u = _fold(x, pred, depth)
    token, nb, raw = _tokenize(u)
    n = _emit_table(buf, n, cdf, uses, row, token, nsym)
    if nb > 0:
        n = _emit(buf, n, raw << (PRECISION - nb), 1 << (PRECISION - nb))
    return n, u


@jit
def _intervals(img, depth, buf):
    """Every symbol of the plane in coding order, packed ``start | freq << 16``; -1 if ``buf`` is full."""
    height, width = img.shape
    nsym = 1 << depth if depth <= 4 else DIRECT_TOKENS + ((depth - 4) << MANTISSA_BITS)
    nctx = (1 << BINARY_TEMPLATE if depth == 1 else NUM_ACTIVITY) + 1
    stop_row = nctx - 1
    cdf, uses = _new_tables(nctx, nsym)
    run_cdf, run_uses = _new_tables(NUM_RUN_TABLES, 2)
    cap = buf.shape[0] - 4  # one step emits at most 4 symbols
    n = 0
    k = 0
    for i in range(height):
        j = 0
        u_w = 0
        while j < width:
            if n > cap:
                return -1
            pred, ctx, flat = _model(img, i, j, depth, u_w)
            if not flat:
                n, u_w = _emit_pixel(buf, n, img[i, j], pred, depth, cdf, uses, ctx, nsym)
                j += 1
                continue
            end = j
            while end < width and img[i, end] == pred:
                end += 1
            u_w = 0
            while True:
                if n > cap:
                    return -1
                m = min(1 << RUN_BLOCK_BITS[k], width - j)
                if j + m <= end:  # the run covers the block
                    n = _emit_table(buf, n, run_cdf, run_uses, k, 1, 2)
                    j += m
                    k = min(k + 1, RUN_K_MAX)
                    if j == width:
                        break
                else:  # the run stops inside the block, before pixel `end`
                    n = _emit_table(buf, n, run_cdf, run_uses, k, 0, 2)
                    if m > 1:
                        start = _uniform_start(end - j, m)
                        n = _emit(buf, n, start, _uniform_start(end - j + 1, m) - start)
                    k = max(k - 1, 0)
                    pred, ctx, flat = _model(img, i, end, depth, 0)
                    n, u_w = _emit_pixel(buf, n, img[i, end], pred, depth, cdf, uses, stop_row, nsym)
                    j = end + 1
                    break
    return n


@jit
def _push_packed(state, tail, length, buf, count):
    mask = np.uint32(_MASK16)
    for t in range(count - 1, -1, -1):
        w = buf[t]
        state, length = rk.push_step(state, tail, length, w & mask, w >> np.uint32(PRECISION), PRECISION)
    return state, length


# -- pop: raster order, the same model -------------------------------------------------------
@jit
def _pop_pixel(state, tail, length, fillers, strict, pred, depth, cdf, uses, row, nsym):
    """Decode one regular pixel; returns ``(state, length, fillers, status, x, u)``."""
    cf = np.int64(rk.peek(state, PRECISION))
    tab = cdf[row]
    token = _find(tab, cf, nsym)
    start = _start(tab, token, nsym)
    state, length, fillers, status = rk.pop_step(
        state, tail, length, fillers, strict, start, _start(tab, token + 1, nsym) - start, PRECISION
    )
    if status != rk.OK:
        return state, length, fillers, status, 0, 0
    _adapt(cdf, uses, row, token, nsym)
    nb = _raw_bits(token)
    raw = 0
    if nb > 0:
        raw = np.int64(rk.peek(state, PRECISION)) >> (PRECISION - nb)
        state, length, fillers, status = rk.pop_step(
            state, tail, length, fillers, strict, raw << (PRECISION - nb), 1 << (PRECISION - nb), PRECISION
        )
    u = _untokenize(token, raw)
    return state, length, fillers, status, _unfold(u, pred, depth), u


@jit
def _pop_plane(state, tail, length, fillers, strict, depth, img):
    height, width = img.shape
    nsym = 1 << depth if depth <= 4 else DIRECT_TOKENS + ((depth - 4) << MANTISSA_BITS)
    nctx = (1 << BINARY_TEMPLATE if depth == 1 else NUM_ACTIVITY) + 1
    stop_row = nctx - 1
    cdf, uses = _new_tables(nctx, nsym)
    run_cdf, run_uses = _new_tables(NUM_RUN_TABLES, 2)
    status = rk.OK
    k = 0
    for i in range(height):
        j = 0
        u_w = 0
        while j < width:
            pred, ctx, flat = _model(img, i, j, depth, u_w)
            if not flat:
                state, length, fillers, status, x, u_w = _pop_pixel(
                    state, tail, length, fillers, strict, pred, depth, cdf, uses, ctx, nsym
                )
                if status != rk.OK:
                    return state, length, fillers, status
                img[i, j] = x
                j += 1
                continue
            u_w = 0
            while True:
                m = min(1 << RUN_BLOCK_BITS[k], width - j)
                tab = run_cdf[k]
                bit = 1 if np.int64(rk.peek(state, PRECISION)) >= _start(tab, 1, 2) else 0
                start = _start(tab, bit, 2)
                state, length, fillers, status = rk.pop_step(
                    state, tail, length, fillers, strict, start, _start(tab, bit + 1, 2) - start, PRECISION
                )
                if status != rk.OK:
                    return state, length, fillers, status
                _adapt(run_cdf, run_uses, k, bit, 2)
                if bit == 1:
                    img[i, j : j + m] = pred
                    j += m
                    k = min(k + 1, RUN_K_MAX)
                    if j == width:
                        break
                    continue
                c = 0
                if m > 1:
                    cf = np.int64(rk.peek(state, PRECISION))
                    c = ((cf + 1) * m - 1) >> PRECISION
                    start = _uniform_start(c, m)
                    state, length, fillers, status = rk.pop_step(
                        state, tail, length, fillers, strict, start, _uniform_start(c + 1, m) - start, PRECISION
                    )
                    if status != rk.OK:
                        return state, length, fillers, status
                img[i, j : j + c] = pred
                j += c
                k = max(k - 1, 0)
                stop_pred, ctx, flat = _model(img, i, j, depth, 0)
                state, length, fillers, status, x, u_w = _pop_pixel(
                    state, tail, length, fillers, strict, stop_pred, depth, cdf, uses, stop_row, nsym
                )
                if status != rk.OK:
                    return state, length, fillers, status
                img[i, j] = x
                j += 1
                break
    return state, length, fillers, status


# -- the family -----------------------------------------------------------------------
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
        count = _intervals(img, self.bit_depth, buf)
        if count < 0:  # many short runs: at most 4 symbols per pixel
            buf = np.empty(4 * size + 16, dtype=np.uint32)
            count = _intervals(img, self.bit_depth, buf)
        return buf, count

    def push(self, msg, symbols) -> None:
        """Push the plane ``symbols``; ``pop`` with its shape returns it."""
        buf, count = self._symbols(self._plane(symbols))
        msg.run_push(_push_packed, count, buf, count)

    def pop(self, msg, *, shape) -> np.ndarray:
        """Pop a plane of ``shape`` (its height and width are not stored in the message)."""
        h, w = _check_shape(shape)
        img = np.empty((h, w), dtype=np.int32)
        msg.run_pop(_pop_plane, self.bit_depth, img)
        return img.astype(np.uint8 if self.bit_depth <= 8 else np.uint16)

    def interval(self, symbols) -> tuple[np.ndarray, np.ndarray]:
        """``(start, freq)`` of every coded symbol in coding order (not one per pixel: runs
        take fewer, pixels with raw bits two)."""
        buf, count = self._symbols(self._plane(symbols))
        packed = buf[:count].astype(np.int64)
        return packed & _MASK16, packed >> PRECISION


__all__ = ["Planar", "PRECISION", "num_tokens", "num_contexts"]
