"""Deliveries as plain data: an attempt and a verification as recorded, a (re)delivery job, and
the retry policy (exponential backoff with jitter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from runtime.backoff import Backoff

DELIVERED, FAILED = "delivered", "failed"


@dataclass(frozen=True)
class DeliveryAttempt:
    export_id: str
    at: datetime
    destination: str
    outcome: str  # "delivered" or "failed"
    detail: str  # the location on success, the reason on failure
    bytes: int


@dataclass(frozen=True)
class Verification:
    export_id: str
    ok: bool
    checked_at: datetime
    problems: tuple[str, ...]
    fetched_from: str


@dataclass(frozen=True)
class DeliveryJob:
    """The durable job of one export and destination; next_attempt_at None: nothing pending."""

    export_id: str
    destination: str
    verify: bool
    failures: int
    next_attempt_at: datetime | None
    last_error: str
    updated_at: datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th consecutive failure waits a random time between
    half and all of min(cap, base * 2**(n-1)); after `max_failures` the export is FAILED. A
    claimed job is leased for `lease_s`: when its worker dies, another takes it after that."""

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_failures: int = 8
    lease_s: float = 900.0

    def delay(self, failures: int) -> timedelta:
        schedule = Backoff(self.base_s, self.cap_s, floor=0.5)
        return timedelta(seconds=schedule.wait(failures - 1))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)


def first(problems: Sequence[str], limit: int = 20) -> list[str]:
    """Enough problems to act on; a directory of a million bad files must not flood the log."""
    return list(problems[:limit]) + (
        [f"... and {len(problems) - limit} more"] * (len(problems) > limit)
    )
