"""Progress reporting: ``progress(description, total)`` makes a bar with ``update(n)`` and ``close()``."""

from __future__ import annotations

import time
from typing import Callable


class _Quiet:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def quiet(description: str, total: int | None) -> _Quiet:
    """The default progress factory: shows nothing."""
    return _Quiet()


Progress = Callable[[str, "int | None"], object]


def step(progress: Progress, description: str, work: Callable):
    """Run ``work()`` under a one-step progress bar; returns its result and seconds taken."""
    bar = progress(description, 1)
    started = time.perf_counter()
    try:
        result = work()
    finally:
        bar.update(1)
        bar.close()
    return result, time.perf_counter() - started
