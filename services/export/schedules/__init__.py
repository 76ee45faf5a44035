"""Scheduled exports: cron expressions read in an IANA time zone, stored in export.schedules and
run by `schedule_worker` (see its module for claiming and the catch-up policy).

Use cases for the servicer: `put_schedule(db, spec, *, actor, now, destinations)`,
`list_schedules(db)`, `delete_schedule(db, schedule_id, *, actor)`."""

from __future__ import annotations

from services.export.schedules.model import Schedule, ScheduledRun, ScheduleSpec, next_after
from services.export.schedules.store import delete_schedule, list_schedules, put_schedule
from services.export.schedules.worker import run_due_schedules, schedule_worker

__all__ = [
    "Schedule",
    "ScheduleSpec",
    "ScheduledRun",
    "delete_schedule",
    "list_schedules",
    "next_after",
    "put_schedule",
    "run_due_schedules",
    "schedule_worker",
]
