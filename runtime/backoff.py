"""Exponential backoff, the one schedule every retry loop here uses: after `failures` failures
(0 for the first retry) a wait is at most min(cap, first * 2**failures), and jitter draws it
below that ceiling so that many callers failing together do not retry in step.

`floor` is the share of the ceiling a wait never goes below: 0 draws anywhere below it ("full
jitter"), 0.5 in its upper half ("equal jitter"), 1 is no jitter at all."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

# 2.0 ** 1024 overflows a float; far beyond any cap anyway.
MAX_DOUBLINGS = 64


@dataclass(frozen=True)
class Backoff:
    first_s: float
    cap_s: float = math.inf
    floor: float = 0.0

    def ceiling(self, failures: int) -> float:
        return min(self.cap_s, self.first_s * 2.0 ** min(max(failures, 0), MAX_DOUBLINGS))

    def wait(self, failures: int, rand: Callable[[], float] | None = None) -> float:
        """Seconds to wait; `rand` draws from [0, 1) (this module's `random` when None, looked
        up at each call so a test can seed it)."""
        draw = (rand or random.random)()
        return self.ceiling(failures) * (self.floor + (1.0 - self.floor) * draw)
