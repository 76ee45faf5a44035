"""Exponential backoff with full jitter: each wait is uniform in [0, min(cap, base * 2^n))."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(
        self, cap_s: float, *, base_s: float = 0.1, rand: Callable[[], float] = random.random
    ) -> None:
        self._cap, self._base, self._rand = cap_s, base_s, rand
        self._failures = 0

    def next_delay(self) -> float:
        ceiling: float = min(self._cap, self._base * 2.0 ** min(self._failures, 32))
        self._failures += 1
        return self._rand() * ceiling

    def reset(self) -> None:
        self._failures = 0
