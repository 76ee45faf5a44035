"""Two schedule workers on two real connections (committing for real) and one schedule: each
due slot runs exactly once, catch-up after downtime runs once, and a run interrupted after its
claim is repeated with the same client_key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete

from runtime.auth import Principal
from runtime.db import Database
from services.export.domain.schedules import Schedule, ScheduledRun, ScheduleSpec
from services.export.service.schedules.editing import put_schedule
from services.export.service.schedules.runs import run_due_schedules
from services.export.tables import outbox, schedules
from tests.export.test_delivery_support import T0


@pytest.fixture
async def schedule(
    replicas: tuple[Database, Database], principal_for: Callable[..., Principal]
) -> AsyncIterator[Schedule]:
    db = replicas[0]
    spec = ScheduleSpec(name=f"race-{uuid.uuid4()}", cron="*/10 * * * *", kind="actions_report")
    actor = principal_for("carol", "compliance")
    made = await put_schedule(db, spec, actor=actor, now=T0, destinations=())
    yield made
    async with db.transaction() as session:  # these rows were committed: leave nothing behind
        await session.execute(delete(schedules).where(schedules.c.id == made.id))
        target = outbox.c.event["target"].astext == f"schedule/{made.id}"
        await session.execute(delete(outbox).where(target))


class SlowCreate:
    """Export creation that takes a moment, so the other worker looks while a run is held."""

    def __init__(self, schedule_id: str) -> None:
        self.schedule_id = schedule_id
        self.slots: list[tuple[datetime, str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, run: ScheduledRun) -> None:
        if run.schedule.id != self.schedule_id:
            return  # another test's schedule, committed meanwhile
        self.slots.append((run.until, run.client_key))
        self.started.set()
        await asyncio.sleep(0.02)
        await self.release.wait()


async def test_two_workers_run_each_due_slot_exactly_once(
    replicas: tuple[Database, Database], schedule: Schedule
) -> None:
    create = SlowCreate(schedule.id)
    now = T0
    for _ in range(9):
        now += timedelta(minutes=10)
        await asyncio.gather(*(run_due_schedules(db, create, now) for db in replicas))

    expected = [T0 + timedelta(minutes=10 * n) for n in range(1, 10)]
    assert [slot for slot, _ in create.slots] == expected


async def test_after_downtime_two_workers_catch_up_once(
    replicas: tuple[Database, Database], schedule: Schedule
) -> None:
    create = SlowCreate(schedule.id)
    back = T0 + timedelta(hours=3, minutes=5)

    for _ in range(3):
        await asyncio.gather(*(run_due_schedules(db, create, back) for db in replicas))

    assert [slot for slot, _ in create.slots] == [T0 + timedelta(minutes=10)]


async def test_a_run_cut_off_after_its_claim_is_repeated_with_the_same_client_key(
    replicas: tuple[Database, Database], schedule: Schedule
) -> None:
    create = SlowCreate(schedule.id)
    create.release.clear()
    due = T0 + timedelta(minutes=10)
    crashed = asyncio.create_task(run_due_schedules(replicas[0], create, due))
    await create.started.wait()
    crashed.cancel()  # the replica dies after the claim, before the schedule advanced
    with pytest.raises(asyncio.CancelledError):
        await crashed
    create.release.set()

    assert await run_due_schedules(replicas[1], create, due) == 1

    [(first_slot, first_key), (second_slot, second_key)] = create.slots
    assert first_slot == second_slot == due
    assert first_key == second_key == f"schedule:{schedule.id}:2026-03-02T09:10:00+00:00"
