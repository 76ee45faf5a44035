"""Incident intake: what a desk system reports, how a report is normalised and fingerprinted,
and the limits it must respect."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from runtime.canonical import canonical_json, sha256_hex
from runtime.errors import InvalidArgument
from services.agent.triage.domain.kinds import check_kind

MAX_TEXT, MAX_SUMMARY, MAX_METRICS, MAX_METRIC_NAME = 200, 2000, 50, 64
# Desk clocks drift; an observation further ahead than this is a broken reporter.
MAX_CLOCK_SKEW = timedelta(minutes=5)
_SEPARATORS = re.compile(r"[\s.\-]+")


@dataclass(frozen=True)
class NewIncident:
    source: str
    kind: str
    desk: str
    subject: str
    summary: str
    metrics: Mapping[str, float]
    observed_at: datetime
    venue: str = ""
    instrument: str = ""


@dataclass(frozen=True, kw_only=True)
class Incident(NewIncident):
    id: str
    created_at: datetime
    created_by: str
    fingerprint: str = ""
    occurrences: int = 1
    last_seen_at: datetime | None = None
    correlation_id: str = ""
    related: tuple[str, ...] = ()
    deduplicated: bool = False  # this report was folded onto it (set in intake replies only)
    resolved_at: datetime | None = None  # the condition ended (a probe recovered)
    resolution: str = ""


def normalise(new: NewIncident) -> NewIncident:
    """The spelling rules of intake (documented on the AgentService contract): reports that
    differ only in case or spacing are the same report."""
    subject = " ".join(new.subject.split())
    venue, instrument = new.venue.strip().upper(), new.instrument.strip().upper()
    return replace(
        new,
        source=new.source.strip().lower(),
        kind=_SEPARATORS.sub("_", new.kind.strip().lower()),
        desk=new.desk.strip().lower(),
        subject=subject or instrument or venue,
        summary=new.summary.strip(),
        metrics=_metrics(new.metrics),
        observed_at=new.observed_at.astimezone(UTC),
        venue=venue,
        instrument=instrument,
    )


def fingerprint(new: NewIncident) -> str:
    """Equal for repeated reports of the same problem: who reports what, where."""
    return sha256_hex(canonical_json([new.source, new.kind, new.desk, new.subject.upper()]))


def validate(new: NewIncident, now: datetime, kinds: Collection[str]) -> None:
    """Raises InvalidArgument naming the first problem with a reported incident; `kinds` are
    those the active rule set declares."""
    check_kind(new.kind, kinds)
    for name in ("source", "subject"):
        if not getattr(new, name).strip():
            raise InvalidArgument(f"{name} is required")
    for name in ("source", "subject", "desk", "venue", "instrument"):
        if len(getattr(new, name)) > MAX_TEXT:
            raise InvalidArgument(f"{name} is longer than {MAX_TEXT} characters")
    if len(new.summary) > MAX_SUMMARY:
        raise InvalidArgument(f"summary is longer than {MAX_SUMMARY} characters")
    _validate_metrics(new.metrics)
    if new.observed_at > now + MAX_CLOCK_SKEW:
        raise InvalidArgument("observed_at is in the future")


def _metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    named = {_SEPARATORS.sub("_", name.strip().lower()): value for name, value in metrics.items()}
    if len(named) != len(metrics):
        raise InvalidArgument("two metric names are the same once normalised")
    return named


def _validate_metrics(metrics: Mapping[str, float]) -> None:
    if len(metrics) > MAX_METRICS:
        raise InvalidArgument(f"at most {MAX_METRICS} metrics are accepted, got {len(metrics)}")
    for name, value in metrics.items():
        if not name.strip() or len(name) > MAX_METRIC_NAME:
            raise InvalidArgument(f"metric names must be 1 to {MAX_METRIC_NAME} characters")
        if not math.isfinite(value):
            raise InvalidArgument(f"metric {name!r} must be a finite number, got {value}")
