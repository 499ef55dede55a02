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

Adaptive tables. Each table keeps an integer count per symbol (a uniform
prior worth about one symbol: ``max(1, COUNT_STEP // K)`` each) and adds
``COUNT_STEP`` to the count of every symbol it codes; when the total passes
``COUNT_LIMIT`` all counts are halved, rounding up (so every count stays
``>= 1``), which gives a memory of a few thousand symbols. Coding uses the
table's *starts*, rebuilt from the counts (deferred summation) after
``1 + uses // 8`` symbols, at most ``REBUILD_MAX``, so a young table follows
every symbol and an old one costs O(1) per symbol::

    C(t) = cum(t) * (2**PRECISION - K) // total  +  t,     C(K) = 2**PRECISION

with ``cum(t)`` the sum of the counts below ``t``: ``C(0) = 0``, and every
symbol gets ``freq = C(t+1) - C(t) >= 1`` (the frequencies sum to exactly
``2**PRECISION``). Both sides count, halve and rebuild at the same symbols,
in 64-bit integers. Raw bits, run lengths and binary run symbols are
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
COUNT_STEP = 32  # a coded symbol adds this to its count (the prior gives every symbol 1)
COUNT_LIMIT = 1 << 16  # counts are halved when their total passes this
REBUILD_SHIFT = 3  # the coding table is rebuilt after 1 + uses // 8 symbols ...
REBUILD_MAX = 64  # ... but at least every 64
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
@jit(inline="always")
def _bit_length(v):
    """Number of bits of ``v`` in ``[0, 2**32)`` (0 for 0), without data-dependent branches."""
    n = np.int64(v > 0xFFFF) << 4
    v >>= n
    s = np.int64(v > 0xFF) << 3
    v >>= s
    n += s
    s = np.int64(v > 0xF) << 2
    v >>= s
    n += s
    s = np.int64(v > 0x3) << 1
    v >>= s
    n += s
    s = np.int64(v > 0x1)
    return n + s + (v >> s)


@jit(inline="always")
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
# A set of tables is one int64 array, a row per table, laid out as
#   [0, nsym)            counts[t]: the adaptive count of symbol t
#   [nsym, 2 nsym + 1)   starts[t]: the coding start C(t); C(nsym) = 2**PRECISION
#   2 nsym + 1           total of the counts
#   2 nsym + 2           uses: symbols coded with the table
#   2 nsym + 3           left: symbols to code before the starts are rebuilt from the counts
# (one array, not several: Numba then passes a single reference around the hot loop).
@jit
def _new_tables(count, nsym):
    """``count`` tables over ``nsym`` symbols, each with a uniform prior worth about one symbol."""
    prior = max(1, COUNT_STEP // nsym)
    tables = np.zeros((count, 2 * nsym + 4), dtype=np.int64)
    for r in range(count):
        tables[r, :nsym] = prior
        tables[r, 2 * nsym + 1] = prior * nsym
        tables[r, 2 * nsym + 3] = 1
        _rebuild(tables, r, nsym)
    return tables


@jit(inline="always")
def _rebuild(tables, r, nsym):
    """Coding starts of table ``r`` from its counts: C(t) = cum(t) * (2**PRECISION - nsym) // total + t."""
    span = (1 << PRECISION) - nsym
    total = tables[r, 2 * nsym + 1]
    cum = 0
    for t in range(nsym):
        tables[r, nsym + t] = (cum * span) // total + t
        cum += tables[r, t]
    tables[r, 2 * nsym] = 1 << PRECISION


@jit(inline="always")
def _adapt(tables, r, s, nsym):
    """Count symbol ``s`` in table ``r``; rebuild its starts when due (see the module docstring)."""
    tables[r, s] += COUNT_STEP
    tables[r, 2 * nsym + 1] += COUNT_STEP
    n = tables[r, 2 * nsym + 2] + 1
    tables[r, 2 * nsym + 2] = n
    left = tables[r, 2 * nsym + 3] - 1
    if left == 0:
        if tables[r, 2 * nsym + 1] > COUNT_LIMIT:
            total = 0
            for t in range(nsym):
                c = (tables[r, t] + 1) >> 1
                tables[r, t] = c
                total += c
            tables[r, 2 * nsym + 1] = total
        _rebuild(tables, r, nsym)
        left = min(REBUILD_MAX, 1 + (n >> REBUILD_SHIFT))
    tables[r, 2 * nsym + 3] = left


@jit(inline="always")
def _find(tables, r, cf, nsym):
    """The symbol ``t`` of table ``r`` with ``C(t) <= cf < C(t+1)``."""
    t = 0
    while tables[r, nsym + t + 1] <= cf:
        t += 1
    return t


@jit
def _uniform_start(c, m):
    return (c << PRECISION) // m


# -- the context model, shared by push and pop ---------------------------------------
@jit(inline="always")
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


@jit(inline="always")
def _med(a, b, c):
    """The median-edge prediction, written as ``a + b - c`` clamped to ``[min(a, b), max(a, b)]``."""
    return max(min(a, b), min(max(a, b), a + b - c))


@jit(inline="always")
def _activity_context(a, b, c, d, u_w):
    g = abs(d - b) + abs(b - c) + abs(c - a) + u_w
    n = _bit_length(g)
    q = 2 * n + ((g >> (n - 2)) & 1 if n >= 2 else 0)
    return min(q, NUM_ACTIVITY - 1)


@jit(inline="always")
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


@jit(inline="always")
def _model(img, i, j, depth, u_w):
    """``(pred, context, flat)`` of pixel (i, j) from the pixels before it."""
    a, b, c, d = _neighbours(img, i, j, 1 << (depth - 1))
    pred = _med(a, b, c)
    flat = a == b and b == c and c == d
    if depth == 1:
        return pred, _binary_context(img, i, j), flat
    return pred, _activity_context(a, b, c, d, u_w), flat


# -- push: the model over the known plane, then the intervals in reverse -------------------
@jit(inline="always")
def _emit(buf, n, start, freq):
    buf[n] = start | (freq << PRECISION)
    return n + 1


@jit(inline="always")
def _emit_table(buf, n, tables, row, s, nsym):
    start = tables[row, nsym + s]
    n = _emit(buf, n, start, tables[row, nsym + s + 1] - start)
    _adapt(tables, row, s, nsym)
    return n


@jit(inline="always")
def _emit_pixel(buf, n, x, pred, depth, tables, row, nsym):
    """Code one regular pixel; returns ``(n, u)``."""
    u = _fold(x, pred, depth)
    token, nb, raw = _tokenize(u)
    n = _emit_table(buf, n, tables, row, token, nsym)
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
    tables = _new_tables(nctx, nsym)
    run_tables = _new_tables(NUM_RUN_TABLES, 2)
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
                n, u_w = _emit_pixel(buf, n, img[i, j], pred, depth, tables, ctx, nsym)
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
                    n = _emit_table(buf, n, run_tables, k, 1, 2)
                    j += m
                    k = min(k + 1, RUN_K_MAX)
                    if j == width:
                        break
                else:  # the run stops inside the block, before pixel `end`
                    n = _emit_table(buf, n, run_tables, k, 0, 2)
                    if m > 1:
                        start = _uniform_start(end - j, m)
                        n = _emit(buf, n, start, _uniform_start(end - j + 1, m) - start)
                    k = max(k - 1, 0)
                    pred, ctx, flat = _model(img, i, end, depth, 0)
                    n, u_w = _emit_pixel(buf, n, img[i, end], pred, depth, tables, stop_row, nsym)
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
@jit(inline="always")
def _pop_pixel(state, tail, length, fillers, strict, pred, depth, tables, row, nsym):
    """Decode one regular pixel; returns ``(state, length, fillers, status, x, u)``."""
    cf = np.int64(rk.peek(state, PRECISION))
    token = _find(tables, row, cf, nsym)
    start = tables[row, nsym + token]
    state, length, fillers, status = rk.pop_step(
        state, tail, length, fillers, strict, start, tables[row, nsym + token + 1] - start, PRECISION
    )
    if status != rk.OK:
        return state, length, fillers, status, 0, 0
    _adapt(tables, row, token, nsym)
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
    tables = _new_tables(nctx, nsym)
    run_tables = _new_tables(NUM_RUN_TABLES, 2)
    status = rk.OK
    k = 0
    for i in range(height):
        j = 0
        u_w = 0
        while j < width:
            pred, ctx, flat = _model(img, i, j, depth, u_w)
            if not flat:
                state, length, fillers, status, x, u_w = _pop_pixel(
                    state, tail, length, fillers, strict, pred, depth, tables, ctx, nsym
                )
                if status != rk.OK:
                    return state, length, fillers, status
                img[i, j] = x
                j += 1
                continue
            u_w = 0
            while True:
                m = min(1 << RUN_BLOCK_BITS[k], width - j)
                bit = 1 if np.int64(rk.peek(state, PRECISION)) >= run_tables[k, 3] else 0
                start = run_tables[k, 2 + bit]
                state, length, fillers, status = rk.pop_step(
                    state, tail, length, fillers, strict, start, run_tables[k, 3 + bit] - start, PRECISION
                )
                if status != rk.OK:
                    return state, length, fillers, status
                _adapt(run_tables, k, bit, 2)
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
                    state, tail, length, fillers, strict, stop_pred, depth, tables, stop_row, nsym
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

    def push(self, msg, symbols, *, shape=None) -> None:
        """Push the plane ``symbols``; ``pop`` with its shape returns it.

        ``shape``, if given (as when the family is bound with ``Planar(d)(shape=...)``),
        must be the plane's shape.
        """
        img = self._plane(symbols)
        if shape is not None and _check_shape(shape) != img.shape:
            raise ValueError(f"plane of shape {img.shape} does not match shape {tuple(shape)}")
        buf, count = self._symbols(img)
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
