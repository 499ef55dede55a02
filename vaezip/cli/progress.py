"""Progress bars of the commands, on stderr: ``bar(total, unit, label, show)``.

A bar draws nothing for its first ``DELAY`` seconds, so quick work stays
silent; after that it redraws at most every ``REDRAW`` seconds one line::

    compressing 3,120/10,000 images [#######.................]  31 %  250 images/s  0:27 left

The rate counts from the first update on (the set-up before it is not
coding), and the time left is what remains at that rate. ``update`` may be
called from several threads at once. ``show`` comes from ``wanted``: on
when stderr is a terminal, off with ``--json`` or ``--quiet``;
``VAEZIP_PROGRESS`` set to ``always`` or ``never`` overrides the terminal
test and ``VAEZIP_PROGRESS_DELAY`` the delay (both for tests and scripts).
"""

from __future__ import annotations

import os
import sys
import threading
import time

DELAY = 2.0  # seconds of work before a bar shows
REDRAW = 0.1  # seconds between redraws
WIDTH = 24  # characters of the bar itself


def wanted(quiet: bool, as_json: bool, stream=None) -> bool:
    """Whether the command shows progress: never with ``--quiet`` or ``--json``, else on a terminal."""
    if quiet or as_json:
        return False
    forced = os.environ.get("VAEZIP_PROGRESS", "").lower()
    if forced in ("always", "never"):
        return forced == "always"
    stream = sys.stderr if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)())


class Bar:
    """A bar of ``total`` ``unit`` (``label`` first) that ``update(n)`` moves on; ``close`` ends its line."""

    def __init__(self, total: int, unit: str, label: str, stream=None, delay: float | None = None):
        self.total, self.unit, self.label = max(0, total), unit, label
        self.stream = sys.stderr if stream is None else stream
        self.delay = float(os.environ.get("VAEZIP_PROGRESS_DELAY", DELAY)) if delay is None else delay
        self.started = time.monotonic()
        self.done = 0
        self.first: tuple[float, int] | None = None  # (time, done) of the first update
        self.drawn = 0.0  # when the line was last drawn (0: never)
        self.lock = threading.Lock()

    def update(self, n: int = 1) -> None:
        with self.lock:
            now = time.monotonic()
            self.done = min(self.total, self.done + n)
            if self.first is None:
                self.first = (now, self.done)
            if now - self.started >= self.delay and now - self.drawn >= REDRAW:
                self._draw(now)

    def close(self) -> None:
        with self.lock:
            if self.drawn:
                self._draw(time.monotonic())
                self.stream.write("\n")
                self.stream.flush()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self, now: float) -> str:
        """The bar's text at time ``now``."""
        share = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * share)
        text = (f"{self.label} {self.done:,}/{self.total:,} {self.unit} "
                f"[{'#' * filled}{'.' * (WIDTH - filled)}] {100 * share:3.0f} %")
        rate = self._rate(now)
        if rate:
            left = (self.total - self.done) / rate
            text += f"  {rate:,.0f} {self.unit}/s  {int(left) // 60}:{int(left) % 60:02d} left"
        return text

    def _rate(self, now: float) -> float | None:
        if self.first is None or now <= self.first[0] or self.done <= self.first[1]:
            return None
        return (self.done - self.first[1]) / (now - self.first[0])

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()
        self.drawn = now


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc) -> None:
        pass


def bar(total: int, unit: str, label: str, show: bool) -> Bar | _Silent:
    """A ``Bar`` on stderr when ``show``, else one that draws nothing."""
    return Bar(total, unit, label) if show else _Silent()
