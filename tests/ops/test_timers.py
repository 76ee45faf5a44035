from __future__ import annotations

from datetime import timedelta

from runtime.auth import Principal
from runtime.db import Database
from services.ops.domain.actions import State
from services.ops.service import proposals as service
from tests.ops.test_timers_support import FakeClock, governed_kind, ladder, propose, tick, verbs

OLGA = Principal("olga", frozenset({"ops"}))


async def test_a_pending_action_expires_exactly_when_the_clock_reaches_expires_at(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("quiet", remind_s=0), clock(), ttl_s=3600)
    action = await propose(ops_db, kind, clock())
    assert action.expires_at == clock() + timedelta(seconds=3600)

    await tick(ops_db, clock, 3600 - 0.001)
    assert (await service.get(ops_db, action_id=action.id)).state is State.PENDING_APPROVAL

    await tick(ops_db, clock, 0.001)
    expired = await service.get(ops_db, action_id=action.id)
    assert expired.state is State.EXPIRED
    assert (await verbs(ops_db, action.id)).count("ops.action.expired") == 1


async def test_an_approved_action_expires_at_the_end_of_its_validity_window_only(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("approved", remind_s=0), clock(), ttl_s=600)
    action = await propose(ops_db, kind, clock())
    approved = await service.approve(
        ops_db, action_id=action.id, approver=OLGA, now=clock.advance(60)
    )
    assert approved.state is State.APPROVED
    assert approved.valid_until is not None

    await tick(ops_db, clock, 600)  # past the pending expiry: that timer was cancelled
    assert (await service.get(ops_db, action_id=action.id)).state is State.APPROVED

    clock.now = approved.valid_until
    await tick(ops_db, clock)
    assert (await service.get(ops_db, action_id=action.id)).state is State.EXPIRED
