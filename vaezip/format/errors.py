"""What reading a .vz file raises, and the internal signal of a field out of range.

``ContainerError`` (a ``ValueError``) and its three kinds are public: every
message says what is wrong and what to do. ``Invalid`` never leaves the
package: ``read`` turns it into ``CorruptError``, ``write`` into ``ValueError``.
"""

from __future__ import annotations


class ContainerError(ValueError):
    """A .vz file that cannot be read; the message says what is wrong and what to do."""


class TruncatedError(ContainerError):
    """The file ends before the size it declares (an interrupted copy or download)."""


class CorruptError(ContainerError):
    """Not a .vz file, or one whose bytes were changed (CRC mismatch, invalid field)."""


class VersionError(ContainerError):
    """A .vz file of a format version (or feature) this vaezip cannot read."""


class Invalid(Exception):
    """A field out of its valid range; ``read`` reports it as CorruptError, ``write`` as ValueError."""


class Short(Invalid):
    """A field runs past the end of what the cursor may read."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise Invalid(message)


def corrupt(error: Invalid) -> CorruptError:
    return CorruptError(f"{error}: the file is corrupt or was not written by vaezip")
