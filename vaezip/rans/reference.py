"""A plain-Python rANS coder: the oracle the Numba kernels are tested against.

It follows the same rules as ``vaezip.rans`` with Python integers and no
tricks, so that any disagreement points at the kernels.
"""

from __future__ import annotations

from vaezip.rans.kernels import FILLER_WORD, STATE_LOWER


class ReferenceMessage:
    def __init__(self, strict: bool = False):
        self.state = STATE_LOWER
        self.tail: list[int] = []
        self.fillers = 0
        self.strict = strict

    def push(self, start: int, freq: int, precision: int) -> None:
        assert 0 < freq and start + freq <= 1 << precision
        if self.state >= freq << (64 - precision):
            self.tail.append(self.state & 0xFFFFFFFF)
            self.state >>= 32
        self.state = (self.state // freq << precision) + self.state % freq + start
        assert STATE_LOWER <= self.state < 1 << 64

    def peek(self, precision: int) -> int:
        return self.state % (1 << precision)

    def pop(self, start: int, freq: int, precision: int) -> None:
        cf = self.peek(precision)
        assert start <= cf < start + freq
        self.state = freq * (self.state >> precision) + cf - start
        if self.state < STATE_LOWER:
            if self.tail:
                word = self.tail.pop()
            elif self.strict:
                raise EOFError("tail is empty")
            else:
                word = FILLER_WORD
                self.fillers += 1
            self.state = self.state << 32 | word
        assert STATE_LOWER <= self.state < 1 << 64

    def to_words(self) -> list[int]:
        return self.tail + [self.state & 0xFFFFFFFF, self.state >> 32]
