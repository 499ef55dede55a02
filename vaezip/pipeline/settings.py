"""The settings every archive is coded with, and the error of a request vaezip cannot carry out."""

from __future__ import annotations

from vaezip import format as vz

LIKELIHOOD_PRECISION = 20
POSTERIOR_PRECISION = 20
LATENT_BITS = 12
DEFAULT_BATCH = 64
MAX_STREAMS = 8
# importance-sampled bits-back variants (--estimator), by name
ESTIMATORS = {"bb-cis": vz.BB_CIS, "bb-is": vz.BB_IS}
# a stream's first image gets no bits back: about 400 (BB-ANS) to 700 (BB-CIS) clean bits
# on the digit models, so a stream should hold at least 1,000 times that
MIN_STREAM_BITS = 600_000


class CodingError(ValueError):
    """A request vaezip cannot carry out (unknown model, data that does not decode, ...)."""


NOT_HERE = (
    "The file is intact (its CRCs match), so it was most likely compressed on a machine whose float32 "
    "network kernels give other results than this one's (another CPU family or torch build): "
    "decode it on a machine like the one that made it (README, 'Portability')"
)
