"""Spikes: a bucket (an hour by default) of the window whose count exceeds the preceding
window's per-bucket mean by more than `sigmas` standard deviations, for all records and per
action. The preceding window has the same length and ends where the window starts; buckets
with no records count as zero."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class Timed(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def action(self) -> str: ...


@dataclass(frozen=True)
class SpikeRule:
    bucket: timedelta = timedelta(hours=1)
    sigmas: float = 3.0
    # Below this a bucket is never a spike: two records after a silent hour are not news.
    min_count: int = 5


@dataclass(frozen=True)
class Spike:
    action: str  # "" for all records
    bucket_start: datetime
    count: int
    baseline_mean: float
    baseline_sd: float


def buckets_in(since: datetime, until: datetime, rule: SpikeRule) -> int:
    return max(1, math.ceil((until - since) / rule.bucket))


def _counts(records: Iterable[Timed], start: datetime, n: int, rule: SpikeRule) -> list[int]:
    counts = Counter(int((r.occurred_at - start) / rule.bucket) for r in records)
    return [counts[i] for i in range(n)]


def _series(
    records: Sequence[Timed],
    baseline: Sequence[Timed],
    action: str,
    since: datetime,
    n: int,
    rule: SpikeRule,
) -> list[Spike]:
    mine = [r for r in records if not action or r.action == action]
    before = [r for r in baseline if not action or r.action == action]
    window = _counts(mine, since, n, rule)
    past = _counts(before, since - n * rule.bucket, n, rule)
    mean, sd = statistics.fmean(past), statistics.pstdev(past)
    limit = max(mean + rule.sigmas * sd, rule.min_count - 1)
    return [
        Spike(action, since + i * rule.bucket, count, round(mean, 6), round(sd, 6))
        for i, count in enumerate(window)
        if count > limit
    ]


def spikes(
    records: Sequence[Timed],
    baseline: Sequence[Timed],
    *,
    since: datetime,
    until: datetime,
    rule: SpikeRule,
) -> list[Spike]:
    n = buckets_in(since, until, rule)
    found = _series(records, baseline, "", since, n, rule)
    for action in sorted({r.action for r in records}):
        found.extend(_series(records, baseline, action, since, n, rule))
    return found
