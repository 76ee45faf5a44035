"""The durable schedule: due rows claimed once, moved on, and run under the agent's name."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import delete, select, update

from runtime.db import Database
from services.agent.compliance.domain.checks import Limits
from services.agent.compliance.domain.schedules import Schedule
from services.agent.compliance.service.schedules import claim, ensure, run_due
from services.agent.compliance.tables import compliance_schedules as schedules
from tests.agent.compliance.fakes import FakeSources, HandClock


async def test_a_due_schedule_is_claimed_once_then_again_after_its_interval(
    agent_db: Database,
) -> None:
    clock = HandClock()
    await ensure(agent_db, Schedule("every-minute", 60), clock())

    first, again = await claim(agent_db, clock()), await claim(agent_db, clock())
    clock.advance(61)

    assert (first, again) == ("every-minute", None)
    assert await claim(agent_db, clock()) == "every-minute"


async def test_a_disabled_schedule_never_runs(agent_db: Database) -> None:
    clock = HandClock()
    await ensure(agent_db, Schedule(), clock())
    async with agent_db.transaction() as session:
        await session.execute(update(schedules).values(enabled=False))

    assert await claim(agent_db, clock.advance(3600)) is None


async def test_a_scheduled_run_is_recorded_under_the_agents_name(agent_db: Database) -> None:
    clock = HandClock()
    await ensure(agent_db, Schedule(), clock())

    run = await run_due(agent_db, FakeSources, clock, Limits())

    assert run is not None
    assert (run.trigger, run.requested_by, run.ok) == ("schedule/default", "agent.compliance", True)
    assert len(run.results) == 6
    async with agent_db.transaction() as session:
        row = (await session.execute(select(schedules))).one()
    assert row.last_run_id == run.id
    assert (row.next_run_at - clock.now).total_seconds() == 900
    assert await run_due(agent_db, FakeSources, clock, Limits()) is None


async def test_two_replicas_racing_for_one_due_schedule_claim_it_once(
    db_urls: dict[str, str],
) -> None:
    name, clock = f"race-{uuid.uuid4()}", HandClock()
    first, second = Database.connect(db_urls["agent"]), Database.connect(db_urls["agent"])
    try:
        await ensure(first, Schedule(name, 900), clock())
        won = await asyncio.gather(claim(first, clock()), claim(second, clock()))
        assert sorted(won, key=str) == sorted([name, None], key=str)
    finally:
        async with first.transaction() as session:
            await session.execute(delete(schedules).where(schedules.c.name == name))
        await first.dispose()
        await second.dispose()
