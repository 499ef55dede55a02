"""The ANS message: a 64-bit state on top of a growable stack of uint32 words.

A message is mutable: codecs push symbols onto it and pop them off, last in,
first out. A message made by ``Message()`` is for compression: a pop that
finds the tail empty reads ``FILLER_WORD`` and counts it in ``fillers`` (bits
back that were not there yet). A message read from a file with
``Message.from_words`` is *strict*: the same situation means the payload ended
early, and raises ``FormatError``. After decoding everything, ``finish``
checks that the message is back to its initial state, with exactly the filler
words that compression borrowed at the bottom of the tail.
"""

from __future__ import annotations

import numpy as np

from vaezip.rans import kernels as _kernels
from vaezip.rans.kernels import FILLER_WORD, MAX_PRECISION, OK, STATE_LOWER, UNDERFLOW

_INITIAL_CAPACITY = 256


class FormatError(ValueError):
    """Coded data that cannot be what vaezip wrote (truncated or corrupt)."""


class BadParameter(ValueError):
    """A pop kernel met an invalid distribution parameter at ``index`` (status ``-1 - index``)."""

    def __init__(self, index: int):
        super().__init__(f"invalid parameter at index {index}")
        self.index = index


def check_precision(precision: int) -> int:
    """Return ``precision`` as an int if it is usable, else raise ValueError."""
    if not isinstance(precision, (int, np.integer)) or not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be an integer in 1..{MAX_PRECISION}, got {precision!r}")
    return int(precision)


class Message:
    """rANS state plus tail.

    Attributes:
        state: ``np.uint64`` in ``[STATE_LOWER, 2**64)``.
        tail: uint32 buffer; the words in use are ``tail[:length]``.
        length: number of words in the tail.
        fillers: filler words read from an empty tail (compression only).
        strict: whether an empty-tail pop is an error (decompression).
    """

    __slots__ = ("state", "tail", "length", "fillers", "strict")

    def __init__(self, strict: bool = False):
        self.state = np.uint64(STATE_LOWER)
        self.tail = np.zeros(_INITIAL_CAPACITY, dtype=np.uint32)
        self.length = 0
        self.fillers = 0
        self.strict = bool(strict)

    # -- size ---------------------------------------------------------------
    @property
    def words(self) -> np.ndarray:
        """The tail words in use (a view, bottom of the stack first)."""
        return self.tail[: self.length]

    def num_bits(self) -> int:
        """Size of the flushed message in bits: every tail word plus 64 for the state."""
        return 32 * self.length + 64

    def reserve(self, n: int) -> None:
        """Make room for ``n`` more words (each push emits at most one)."""
        need = self.length + int(n)
        if need > self.tail.shape[0]:
            grown = np.zeros(max(need, 2 * self.tail.shape[0]), dtype=np.uint32)
            grown[: self.length] = self.tail[: self.length]
            self.tail = grown

    def copy(self) -> "Message":
        other = Message(self.strict)
        other.state = self.state
        other.tail = self.tail[: max(self.length, 1)].copy()
        other.length = self.length
        other.fillers = self.fillers
        return other

    # -- running kernels ------------------------------------------------------
    def run_push(self, kernel, count: int, *args) -> None:
        """Run a push kernel ``kernel(state, tail, length, *args) -> (state, length)``.

        ``count`` is the number of symbols it pushes (the tail grows by at most that).
        """
        self.reserve(count)
        state, self.length = kernel(self.state, self.tail, self.length, *args)
        self.state = np.uint64(state)

    def run_pop(self, kernel, *args) -> None:
        """Run a pop kernel ``kernel(state, tail, length, fillers, strict, *args)``.

        The kernel returns ``(state, length, fillers, status)``; a non-OK status
        raises ``FormatError`` (the message is then unusable).
        """
        state, length, fillers, status = kernel(
            self.state, self.tail, self.length, self.fillers, self.strict, *args
        )
        if status < 0:
            raise BadParameter(-1 - status)
        if status == UNDERFLOW:
            raise FormatError("coded data ended early: the payload is truncated or corrupt")
        if status != OK:
            raise FormatError(f"coded data is corrupt (status {status})")
        self.state, self.length, self.fillers = np.uint64(state), length, fillers

    # -- serialization ------------------------------------------------------
    def to_words(self) -> np.ndarray:
        """Tail words (bottom first) followed by the state as two words, low first."""
        state = int(self.state)
        head = np.array([state & 0xFFFFFFFF, state >> 32], dtype=np.uint32)
        return np.concatenate([self.words, head])

    @classmethod
    def from_words(cls, words: np.ndarray) -> "Message":
        """A strict message from ``to_words`` output (validates the state)."""
        words = np.asarray(words)
        if words.ndim != 1 or words.shape[0] < 2:
            raise FormatError("a coded stream needs at least two words (the state)")
        state = int(words[-2]) | (int(words[-1]) << 32)
        if state < STATE_LOWER:
            raise FormatError("coded stream has an invalid final state")
        msg = cls(strict=True)
        msg.tail = np.array(words[:-2], dtype=np.uint32)
        if msg.tail.shape[0] == 0:
            msg.tail = np.zeros(_INITIAL_CAPACITY, dtype=np.uint32)
        msg.length = words.shape[0] - 2
        msg.state = np.uint64(state)
        return msg

    def to_bytes(self) -> bytes:
        """``to_words`` as little-endian bytes."""
        return self.to_words().astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Message":
        if len(data) % 4:
            raise FormatError("coded stream length is not a whole number of 32-bit words")
        return cls.from_words(np.frombuffer(data, dtype="<u4").astype(np.uint32))

    def finish(self, fillers: int) -> None:
        """Check a fully decoded message: initial state, ``fillers`` filler words left.

        Raises ``FormatError`` otherwise: the stream held more (or other)
        data than was decoded, or a filler word was not regenerated.
        """
        if int(self.state) != STATE_LOWER:
            raise FormatError("coded stream did not return to its initial state: corrupt data")
        if self.length != fillers or np.any(self.words != FILLER_WORD):
            raise FormatError(
                f"coded stream has {self.length} words left where {fillers} filler words were expected"
            )

    def __repr__(self) -> str:
        return (
            f"Message(state={int(self.state):#x}, length={self.length}, "
            f"fillers={self.fillers}, strict={self.strict})"
        )


def push_intervals(msg: Message, starts, freqs, precision: int) -> None:
    """Push intervals ``[starts[i], starts[i]+freqs[i])``; pops return them in index order."""
    precision = check_precision(precision)
    starts = np.ascontiguousarray(starts, dtype=np.int64).ravel()
    freqs = np.ascontiguousarray(freqs, dtype=np.int64).ravel()
    if starts.shape != freqs.shape:
        raise ValueError("starts and freqs must have the same number of elements")
    if starts.size and (
        freqs.min() < 1 or starts.min() < 0 or (starts + freqs).max() > (1 << precision)
    ):
        raise ValueError("every interval must satisfy freq >= 1 and 0 <= start < start+freq <= 2**precision")
    msg.run_push(_kernels.push_intervals, starts.size, starts, freqs, precision)


def pop_table(msg: Message, cdf, n: int, precision: int):
    """Pop ``n`` symbols coded with one shared integer cumulative table ``cdf``."""
    precision = check_precision(precision)
    cdf = np.ascontiguousarray(cdf, dtype=np.int64)
    if cdf.ndim != 1 or cdf[0] != 0 or cdf[-1] != 1 << precision or np.any(np.diff(cdf) < 1):
        raise ValueError("cdf must increase strictly from 0 to 2**precision")
    out = np.empty(int(n), dtype=np.int64)
    msg.run_pop(_kernels.pop_table, cdf, int(n), precision, out)
    return out
