"""The durable schedule of compliance runs. Each schedule is a row with a due time; any replica
claims a due row and moves its due time on in the same short transaction before running, so
replicas never run one schedule twice and a restart loses nothing but the run that was in
flight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from runtime.db import Database
from services.agent.compliance.domain.checks import Limits, Sources
from services.agent.compliance.domain.results import Run
from services.agent.compliance.domain.schedules import Schedule
from services.agent.compliance.repository import schedules
from services.agent.compliance.service.runs import SCHEDULER, Clock, run_checks


async def ensure(db: Database, schedule: Schedule, now: datetime) -> None:
    """Creates the schedule row, first due now, unless it exists (an operator may have changed
    its interval or disabled it: that is kept)."""
    async with db.transaction() as session:
        await schedules.ensure(session, schedule, now)


async def claim(db: Database, now: datetime) -> str | None:
    """The name of one due schedule, its next run already moved on; None when none is due."""
    async with db.transaction() as session:
        return await schedules.claim(session, now)


async def run_due(
    db: Database, sources: Callable[[], Sources], clock: Clock, limits: Limits
) -> Run | None:
    """Runs one due schedule, if any, with the agent's own identity."""
    name = await claim(db, clock())
    if name is None:
        return None
    requester = replace(SCHEDULER, trigger=f"schedule/{name}")
    run = await run_checks(db, sources(), requester=requester, clock=clock, limits=limits)
    async with db.transaction() as session:
        await schedules.set_last_run(session, name, run.id)
    return run
