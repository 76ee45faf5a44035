"""A one-line progress bar on stderr: records done of the total, and the rate."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_EVERY_S = 0.1


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, *, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.total, self.done = max(total, 0), 0
        self._start = self._shown = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        # Redrawing on every record would cost more than verifying it.
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
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} records, {rate:,.0f}/s")
        self.stream.flush()
