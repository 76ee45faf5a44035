"""The schedule worker. A due schedule is claimed with FOR UPDATE SKIP LOCKED and its row lock is
held while its run creates the export (through `create_export`, in its own transactions), then
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

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import DomainError
from runtime.grpc_server import Worker
from services.export.schedules.model import ScheduledRun, next_after
from services.export.schedules.store import as_schedule
from services.export.scheduling_tables import schedules

log = logging.getLogger(__name__)
RETRY = Backoff(first_s=5.0, cap_s=600.0, floor=0.5)  # a failing slot's next try
Clock = Callable[[], datetime]
CreateExport = Callable[[ScheduledRun], Awaitable[object]]


async def run_due_schedules(
    db: Database, create_export: CreateExport, now: datetime, *, batch: int = 20
) -> int:
    """Runs up to `batch` due schedules, one transaction each; returns how many were claimed."""
    ran = 0
    while ran < batch and await _run_next(db, create_export, now):
        ran += 1
    return ran


async def _run_next(db: Database, create_export: CreateExport, now: datetime) -> bool:
    due = or_(schedules.c.retry_at.is_(None), schedules.c.retry_at <= now)
    claim = (
        select(schedules)
        .where(schedules.c.enabled, schedules.c.next_run_at <= now, due)
        .order_by(schedules.c.next_run_at, schedules.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    async with db.transaction() as session:
        row = (await session.execute(claim)).first()
        if row is None:
            return False
        run = ScheduledRun(as_schedule(row), row.last_run_at or row.created_at, row.next_run_at)
        try:
            await create_export(run)
        except DomainError as refusal:
            log.warning("scheduled run %s of %s refused: %s", run.client_key, row.name, refusal)
            await _advance(session, row, now, f"{type(refusal).__name__}: {refusal}")
        except Exception as exc:
            log.exception("scheduled run %s of %s failed", run.client_key, row.name)
            await _retry_later(session, row, now, f"{type(exc).__name__}: {exc}"[:2000])
        else:
            await _advance(session, row, now, "")
    return True


async def _advance(session: AsyncSession, row: Row[Any], now: datetime, error: str) -> None:
    upcoming = next_after(row.cron, row.time_zone, max(now, row.next_run_at))
    await _set(
        session,
        row,
        last_run_at=row.next_run_at,
        next_run_at=upcoming,
        retry_at=None,
        failures=0,
        last_error=error,
    )


async def _retry_later(session: AsyncSession, row: Row[Any], now: datetime, error: str) -> None:
    retry_at = now + timedelta(seconds=RETRY.wait(row.failures))
    await _set(session, row, retry_at=retry_at, failures=row.failures + 1, last_error=error)


async def _set(session: AsyncSession, row: Row[Any], **values: Any) -> None:
    await session.execute(update(schedules).where(schedules.c.id == row.id).values(**values))


def schedule_worker(
    db: Database, create_export: CreateExport, clock: Clock, *, poll_s: float = 5.0
) -> Worker:
    """The background worker running due schedules; `create_export` turns a ScheduledRun into
    an export (idempotent on run.client_key for run.requested_by)."""

    async def loop() -> None:
        while True:
            try:
                ran = await run_due_schedules(db, create_export, clock())
            except Exception:
                log.exception("schedule pass failed")
                ran = 0
            if not ran:
                await asyncio.sleep(poll_s)

    return loop
