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

Where things are: ``residuals`` (folding and tokens), ``tables`` (the
adaptive tables), ``predictor`` (neighbours, prediction, contexts, run
mode's constants), ``push`` and ``pop`` (the two directions of the same
model, run mode included) and ``codec`` (the ``Planar`` family).
"""

from __future__ import annotations

from vaezip.codecs.planar.codec import Planar
from vaezip.codecs.planar.predictor import num_contexts
from vaezip.codecs.planar.residuals import num_tokens
from vaezip.codecs.planar.tables import PRECISION

__all__ = ["Planar", "PRECISION", "num_tokens", "num_contexts"]
