"""The one place that fixes how vaezip compiles Numba kernels.

Every kernel is compiled with the same options so that the arithmetic is the
same on the compress and the decompress side: no fast-math (no reassociation,
no fused multiply-add contraction), numpy's error model (no Python exceptions
from inside loops), and an on-disk cache so that a second process does not
pay the compile time again (in ``vaezip.rans.cache_dir``'s user directory
when the package itself is read-only).
"""

from __future__ import annotations

from vaezip.rans import cache_dir

_CACHE_DIR = cache_dir.configure()  # before numba reads its configuration

import numba  # noqa: E402

if _CACHE_DIR and numba.config.CACHE_DIR != _CACHE_DIR:  # numba was imported before vaezip
    numba.config.CACHE_DIR = _CACHE_DIR

JIT_OPTIONS = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")


def jit(fn=None, **overrides):
    """``numba.njit`` with vaezip's fixed options (usable with or without arguments)."""
    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(fn)
