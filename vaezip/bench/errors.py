"""What ``vaezip bench`` raises: a request it cannot carry out, or an image that did not come back exact."""

from __future__ import annotations


class BenchError(ValueError):
    """A bench request that cannot be carried out; the message is one line and says why."""


class RoundTripError(BenchError):
    """An image did not come back exact from vaezip: a bug, never expected."""
