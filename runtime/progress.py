"""A one-line progress bar on stderr for the command-line tools: done of total, and the rate.
It draws only on a terminal unless forced, and at most ten times a second."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_WIDTH = 30
_EVERY_S = 0.1

# (done, total, rate per second) -> the text after the bar.
Describe = Callable[[int, int, float], str]


def records(done: int, total: int, rate: float) -> str:
    return f"{done}/{total} records, {rate:,.0f}/s"


def megabytes(done: int, total: int, rate: float) -> str:
    return f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB, {rate / 1e6:,.0f} MB/s"


class Progress:
    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        *,
        force: bool = False,
        describe: Describe = records,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.total, self.done, self._describe = max(total, 0), 0, describe
        self._start = self._shown = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        # Redrawing on every record would cost more than the work it reports.
        if self.enabled and now - self._shown >= _EVERY_S:
            self._shown = now
            self._draw(now)

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = round(share * _WIDTH)
        rate = self.done / max(now - self._start, 1e-6)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self._describe(self.done, self.total, rate)}")
        self.stream.flush()
