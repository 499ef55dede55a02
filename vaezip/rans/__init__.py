"""The rANS coder: a message (state + tail) and Numba kernels over arrays.

This layer knows only integer intervals ``(start, freq)`` at a given
``precision``; distributions live in ``vaezip.codecs``. It never imports torch.
"""

from vaezip.rans.kernels import FILLER_WORD, MAX_PRECISION, STATE_LOWER
from vaezip.rans.message import FormatError, Message, check_precision, pop_table, push_intervals

__all__ = [
    "FILLER_WORD",
    "MAX_PRECISION",
    "STATE_LOWER",
    "FormatError",
    "Message",
    "check_precision",
    "push_intervals",
    "pop_table",
]
