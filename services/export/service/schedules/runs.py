"""Running due schedules, and a schedule's run as an export.

A run becomes an export of the window [since, until) of the run, requested by
"schedule/<name>" under the export service's own identity (peers see a service, the audit log
names the schedule), idempotent on the run's client key (scheduled_creator).

A due schedule is claimed with FOR UPDATE SKIP LOCKED and its row lock is
held while its run creates the export (through `create`, in its own transactions), then
the schedule is advanced in the claiming transaction. So replicas never run one slot at the same
time, and a crash before the advance commits releases the lock with the slot still due: the next
claim repeats the run with the same client_key, which returns the export already created instead
of a second one.

Catch-up policy: after downtime that missed several slots, the schedule runs ONCE, for the
oldest missed slot (stored in next_run_at, so a repeat after a crash names the same slot), and
next_run_at moves to the first slot after now. Windows stay contiguous: the next run exports
from the slot of this one, so missed slots lose no data.

A run that raises a DomainError (the request became invalid, a destination was removed, the
service identity was refused) will not succeed by retrying: the slot is skipped and the error
kept in last_error. Anything else (the database, a bug) retries the same slot with backoff."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import SERVICE, Principal
from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import DomainError
from services.export.domain.exports import Export
from services.export.domain.requests import ExportRequest
from services.export.domain.schedules import Schedule, ScheduledRun, next_after
from services.export.repository import schedules
from services.export.service.exports import Exporter, create_export

log = logging.getLogger(__name__)
RETRY = Backoff(first_s=5.0, cap_s=600.0, floor=0.5)  # a failing slot's next try
CreateExport = Callable[[ScheduledRun], Awaitable[object]]


async def run_due_schedules(
    db: Database, create: CreateExport, now: datetime, *, batch: int = 20
) -> int:
    """Runs up to `batch` due schedules, one transaction each; returns how many were claimed."""
    ran = 0
    while ran < batch and await _run_next(db, create, now):
        ran += 1
    return ran


async def _run_next(db: Database, create: CreateExport, now: datetime) -> bool:
    async with db.transaction() as session:
        due = await schedules.claim_due(session, now)
        if due is None:
            return False
        run = ScheduledRun(due, due.last_run_at or due.created_at, due.next_run_at)
        try:
            await create(run)
        except DomainError as refusal:
            log.warning("scheduled run %s of %s refused: %s", run.client_key, due.name, refusal)
            await _advance(session, due, now, f"{type(refusal).__name__}: {refusal}")
        except Exception as exc:
            log.exception("scheduled run %s of %s failed", run.client_key, due.name)
            await _retry_later(session, due, now, f"{type(exc).__name__}: {exc}"[:2000])
        else:
            await _advance(session, due, now, "")
    return True


async def _advance(session: AsyncSession, due: Schedule, now: datetime, error: str) -> None:
    upcoming = next_after(due.cron, due.time_zone, max(now, due.next_run_at))
    await schedules.set_run_state(
        session,
        due.id,
        last_run_at=due.next_run_at,
        next_run_at=upcoming,
        retry_at=None,
        failures=0,
        last_error=error,
    )


async def _retry_later(session: AsyncSession, due: Schedule, now: datetime, error: str) -> None:
    retry_at = now + timedelta(seconds=RETRY.wait(due.failures))
    await schedules.set_run_state(
        session, due.id, retry_at=retry_at, failures=due.failures + 1, last_error=error
    )


def scheduled_creator(
    exporter: Exporter, token: Callable[[], str]
) -> Callable[[ScheduledRun], Awaitable[Export]]:
    async def create(run: ScheduledRun) -> Export:
        schedule = run.schedule
        caller = Principal(run.requested_by, frozenset({SERVICE}), token=token(), owner="export")
        request = ExportRequest(
            kind=schedule.kind,
            format=schedule.format,
            since=run.since,
            until=run.until,
            destination=schedule.destination,
            client_key=run.client_key,
            parameters=dict(schedule.parameters),
        )
        return await create_export(exporter, request, caller)

    return create
