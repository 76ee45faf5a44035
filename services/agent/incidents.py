"""Incident intake: what a desk system reports and the limits it must respect."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from runtime.errors import InvalidArgument

KINDS = (
    "market_data_latency",
    "stale_price",
    "order_reject_spike",
    "fix_session_down",
    "limit_breach",
    "pnl_break",
    "recon_break",
)
MAX_TEXT, MAX_SUMMARY, MAX_METRICS, MAX_METRIC_NAME = 200, 2000, 50, 64
# Desk clocks drift; an observation further ahead than this is a broken reporter.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class NewIncident:
    source: str
    kind: str
    desk: str
    subject: str
    summary: str
    metrics: Mapping[str, float]
    observed_at: datetime


@dataclass(frozen=True)
class Incident(NewIncident):
    id: str
    created_at: datetime
    created_by: str


def validate(new: NewIncident, now: datetime) -> None:
    """Raises InvalidArgument naming the first problem with a reported incident."""
    if new.kind not in KINDS:
        raise InvalidArgument(f"kind {new.kind!r} is not one of: {', '.join(KINDS)}")
    for name in ("source", "subject"):
        if not getattr(new, name).strip():
            raise InvalidArgument(f"{name} is required")
    for name in ("source", "subject", "desk"):
        if len(getattr(new, name)) > MAX_TEXT:
            raise InvalidArgument(f"{name} is longer than {MAX_TEXT} characters")
    if len(new.summary) > MAX_SUMMARY:
        raise InvalidArgument(f"summary is longer than {MAX_SUMMARY} characters")
    _validate_metrics(new.metrics)
    if new.observed_at > now + MAX_CLOCK_SKEW:
        raise InvalidArgument("observed_at is in the future")


def _validate_metrics(metrics: Mapping[str, float]) -> None:
    if len(metrics) > MAX_METRICS:
        raise InvalidArgument(f"at most {MAX_METRICS} metrics are accepted, got {len(metrics)}")
    for name, value in metrics.items():
        if not name.strip() or len(name) > MAX_METRIC_NAME:
            raise InvalidArgument(f"metric names must be 1 to {MAX_METRIC_NAME} characters")
        if not math.isfinite(value):
            raise InvalidArgument(f"metric {name!r} must be a finite number, got {value}")
