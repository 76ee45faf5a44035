"""Schedules as plain data, and the cron arithmetic (croniter, read in the schedule's IANA time
zone, stored in UTC). On the autumn change of clocks a time in the repeated hour matches twice;
each run exports the window since the previous one, so the second run adds nothing twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from runtime.errors import InvalidArgument

MAX_NAME = 100


@dataclass(frozen=True)
class ScheduleSpec:
    """What a person puts: everything but the times the service keeps. Empty id: a new one."""

    name: str
    cron: str
    kind: str
    time_zone: str = "UTC"
    format: str = "jsonl"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    destination: str = ""
    enabled: bool = True
    id: str = ""


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    cron: str
    time_zone: str
    kind: str
    format: str
    parameters: Mapping[str, Any]
    destination: str
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    created_by: str
    created_at: datetime
    last_error: str = ""
    failures: int = 0  # failed tries of the due slot, which drive its retry backoff


@dataclass(frozen=True)
class ScheduledRun:
    """One run of a schedule: the slot it is for, and the window it exports, [since, until):
    from the previous run's slot (the schedule's creation for the first) to this slot. The
    client_key is derived from schedule and slot, so a run that is repeated after a crash
    creates no second export."""

    schedule: Schedule
    since: datetime
    until: datetime

    @property
    def client_key(self) -> str:
        return f"schedule:{self.schedule.id}:{self.until.astimezone(UTC).isoformat()}"

    @property
    def requested_by(self) -> str:
        return f"schedule/{self.schedule.name}"


def validate(spec: ScheduleSpec) -> None:
    if not spec.name.strip() or len(spec.name) > MAX_NAME:
        raise InvalidArgument(f"name must be 1 to {MAX_NAME} characters")
    zone(spec.time_zone)
    if len(spec.cron.split()) != 5 or not croniter.is_valid(spec.cron):
        raise InvalidArgument(
            f"cron must be five fields (minute hour day-of-month month day-of-week): {spec.cron!r}"
        )


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(f"unknown time zone {name!r} (an IANA name such as UTC)") from None


def next_after(cron: str, time_zone: str, after: datetime) -> datetime:
    """The first time strictly after `after` that `cron` matches in `time_zone`, in UTC."""
    local = after.astimezone(zone(time_zone))
    found: datetime = croniter(cron, local).get_next(datetime)
    return found.astimezone(UTC)
