"""Desk hours: when people are expected to be at work, in the desk's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = frozenset(range(5))  # Monday to Friday


@dataclass(frozen=True)
class DeskHours:
    start: time = time(7, 0)
    end: time = time(19, 0)
    zone: str = "Europe/London"

    @classmethod
    def parse(cls, hours: str, zone: str) -> DeskHours:
        """From "HH:MM-HH:MM" and an IANA zone name; ValueError names what is wrong."""
        try:
            start, end = (time.fromisoformat(part.strip()) for part in hours.split("-"))
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise ValueError(f"desk hours {hours!r} in {zone!r}: {exc}") from exc
        if end <= start:
            raise ValueError(f"desk hours {hours!r} must end after they start")
        return cls(start, end, zone)

    def outside(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.zone))
        if local.weekday() not in WEEKDAYS:
            return True
        return not self.start <= local.time() < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}, Monday to Friday"
