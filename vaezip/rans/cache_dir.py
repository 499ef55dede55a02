"""Where compiled Numba kernels are cached, chosen before numba is imported.

Numba caches a ``cache=True`` kernel in ``__pycache__`` beside its source.
When vaezip is installed where the user cannot write (a system
site-packages, a read-only image), numba would compile every kernel again
in every process. vaezip then points ``NUMBA_CACHE_DIR`` at
``$XDG_CACHE_HOME/vaezip/numba`` (``~/.cache/vaezip/numba`` without
``XDG_CACHE_HOME``), where numba keeps one folder per source directory.

A package directory counts as writable when the process may write there
*and* it has a write permission bit: one made read-only with
``chmod -R a-w`` is treated as read-only even for root. A
``NUMBA_CACHE_DIR`` the user set is always kept.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # vaezip/rans/cache_dir.py -> vaezip/


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vaezip/numba``, or ``~/.cache/vaezip/numba``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vaezip" / "numba"


def package_writable(package_dir: Path = PACKAGE_DIR) -> bool:
    """Whether numba can keep its cache beside vaezip's sources (see the module docstring)."""
    try:
        mode = package_dir.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(package_dir, os.W_OK)


def configure() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to the user cache directory when the package is read-only and the
    user set none; returns the directory numba will use, or None for numba's own choice."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return chosen
    if package_writable():
        return None
    chosen = str(user_cache_dir())
    os.environ["NUMBA_CACHE_DIR"] = chosen
    return chosen
