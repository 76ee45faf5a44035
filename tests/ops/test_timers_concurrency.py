"""Timers on committed data: several workers, and workers that die while holding a claim."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Row, func, select, update

from runtime.auth import Principal
from runtime.db import Database
from services.ops.domain.actions import State
from services.ops.domain.timers import Timer
from services.ops.repository import timers
from services.ops.service import proposals as service
from services.ops.service import timers as firing
from services.ops.service.escalation_policies import put_escalation_policy
from services.ops.tables import notifications
from services.ops.tables import timers as timer_table
from services.ops.workers import timers as worker
from tests.ops.test_timers_support import ADMIN, FakeClock, ladder, propose, sent, verbs

OLGA = Principal("olga", frozenset({"ops"}))


@pytest.fixture
async def committed(db_urls: dict[str, str]) -> AsyncIterator[tuple[Database, Database]]:
    """Two workers' own connections to the ops database; what they do is committed."""
    one, two = Database.connect(db_urls["ops"]), Database.connect(db_urls["ops"])
    yield one, two
    await one.dispose()
    await two.dispose()


async def _timer_rows(db: Database, action_id: str, kind: str) -> list[Row[Any]]:
    query = select(timer_table).where(
        timer_table.c.action_id == action_id, timer_table.c.kind == kind
    )
    async with db.transaction() as session:
        return list((await session.execute(query)).all())


async def _retire(db: Database, action_ids: list[str]) -> None:
    """Leaves no pending timer or notification of these committed actions for later tests."""
    about = notifications.c.body["action_id"].astext.in_(action_ids)
    async with db.transaction() as session:
        for action_id in action_ids:
            await timers.cancel(session, action_id)
        await session.execute(update(notifications).where(about).values(delivered_at=func.now()))


async def test_two_workers_fire_each_due_timer_once(committed: tuple[Database, Database]) -> None:
    one, two = committed
    clock = FakeClock()
    actions = [await propose(one, "failover_market_data_feed", clock()) for _ in range(12)]
    clock.now = max(a.expires_at for a in actions if a.expires_at)
    effects = firing.default_effects()

    while sum(
        await asyncio.gather(
            firing.fire_due(one, clock(), effects, batch=3, by="one"),
            firing.fire_due(two, clock(), effects, batch=3, by="two"),
        )
    ):
        pass

    for action in actions:
        assert (await service.get(one, action_id=action.id)).state is State.EXPIRED
        assert (await verbs(one, action.id)).count("ops.action.expired") == 1
        (timer,) = await _timer_rows(one, action.id, "expire")
        assert (timer.state, timer.attempts) == ("fired", 1)
    claimers = {(await _timer_rows(one, a.id, "expire"))[0].claimed_by for a in actions}
    assert claimers <= {"one", "two"}


async def _escalating_action(db: Database, clock: FakeClock, policy_id: str) -> str:
    """A committed pending action with a level-1 escalation timer already due."""
    await put_escalation_policy(db, ladder(policy_id, remind_s=0), ADMIN, clock())
    action = await propose(db, "failover_market_data_feed", clock())
    async with db.transaction() as session:
        payload = {"policy": policy_id, "version": 1, "level": 1}
        await timers.schedule(
            session, action_id=action.id, kind="escalate", due_at=clock(), payload=payload
        )
    return action.id


async def _escalated_once(db: Database, action_id: str) -> None:
    assert (await service.get(db, action_id=action_id)).escalation_level == 1
    assert (await verbs(db, action_id)).count("ops.action.escalated") == 1
    assert [d for d, _ in await sent(db, action_id)] == ["slack-ops"]
    levels = {t.payload["level"]: t.state for t in await _timer_rows(db, action_id, "escalate")}
    assert levels == {1: "fired", 2: "pending"}


async def test_a_worker_cancelled_mid_escalation_leaves_the_timer_to_fire_once_later(
    committed: tuple[Database, Database],
) -> None:
    one, two = committed
    clock = FakeClock()
    action_id = await _escalating_action(one, clock, f"cancelled-{os.getpid()}-{id(clock)}")
    holding = asyncio.Event()
    effects = firing.default_effects()
    real = effects["escalate"]

    async def escalate_then_hang(db: Database, timer: Timer, now: datetime) -> object:
        await real(db, timer, now)
        holding.set()
        await asyncio.Event().wait()
        return None

    hanging = asyncio.create_task(
        firing.fire_due(one, clock(), {**effects, "escalate": escalate_then_hang})
    )
    await asyncio.wait_for(holding.wait(), 10)
    hanging.cancel()
    with pytest.raises(asyncio.CancelledError):
        await hanging

    assert (await service.get(two, action_id=action_id)).escalation_level == 0
    assert await sent(two, action_id) == []
    await firing.fire_due(two, clock(), effects)
    await _escalated_once(two, action_id)
    await _retire(two, [action_id])


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime
    from runtime.db import Database
    from services.ops.service import timers as worker

    async def main() -> None:
        effects = worker.default_effects()
        real = effects["escalate"]

        async def escalate_then_hang(db, timer, now):
            await real(db, timer, now)
            print("escalated", flush=True)
            await asyncio.Event().wait()

        effects["escalate"] = escalate_then_hang
        db = Database.connect(sys.argv[1])
        await worker.fire_due(db, datetime.fromisoformat(sys.argv[2]), effects)

    asyncio.run(main())
    """
)


async def test_a_worker_killed_mid_escalation_leaves_the_timer_to_fire_once_after_restart(
    committed: tuple[Database, Database], db_urls: dict[str, str]
) -> None:
    one, _ = committed
    clock = FakeClock()
    action_id = await _escalating_action(one, clock, f"killed-{os.getpid()}-{id(clock)}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER,
        db_urls["ops"],
        clock().isoformat(),
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"escalated"
    process.kill()  # SIGKILL: no rollback from the worker, the server drops its transaction
    await process.wait()

    assert (await service.get(one, action_id=action_id)).escalation_level == 0
    await firing.fire_due(one, clock(), firing.default_effects())
    await _escalated_once(one, action_id)
    await _retire(one, [action_id])


async def test_the_worker_fires_due_timers_by_itself_and_wakes_the_relay(
    committed: tuple[Database, Database],
) -> None:
    one, two = committed
    clock = FakeClock()
    action = await propose(one, "failover_market_data_feed", clock())
    assert action.expires_at is not None
    clock.now = action.expires_at
    woken = asyncio.Event()
    running = asyncio.create_task(worker.timer_worker(one, clock, woken.set, poll_s=0.01)())
    try:
        await asyncio.wait_for(woken.wait(), 10)
        for _ in range(100):
            if (await service.get(two, action_id=action.id)).state is State.EXPIRED:
                break
            await asyncio.sleep(0.05)
        assert (await service.get(two, action_id=action.id)).state is State.EXPIRED
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_a_decision_is_not_held_up_by_a_worker_firing_one_of_its_timers(
    committed: tuple[Database, Database],
) -> None:
    one, two = committed
    clock = FakeClock()
    action_id = await _escalating_action(one, clock, f"held-{os.getpid()}-{id(clock)}")
    (due,) = await _timer_rows(one, action_id, "escalate")
    claim = select(timer_table.c.id).where(timer_table.c.id == due.id).with_for_update()
    async with one.transaction() as session:
        await session.execute(claim)  # as a worker does while it waits for the action row
        approved = await asyncio.wait_for(
            service.approve(two, action_id=action_id, approver=OLGA, now=clock()), 5
        )
    assert approved.state is State.APPROVED

    await firing.fire_due(one, clock(), firing.default_effects())  # the skipped timer: a no-op
    after = await service.get(one, action_id=action_id)
    assert (after.state, after.escalation_level) == (State.APPROVED, 0)
    assert await sent(one, action_id) == []
    await _retire(one, [action_id])
