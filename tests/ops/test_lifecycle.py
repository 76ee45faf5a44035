"""Parameter changes, cancellation, expiry and the execution hand-off, on the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from services.ops.domain.actions import Action, Risk, State
from services.ops.service import execution, lifecycle
from services.ops.service import proposals as service
from services.ops.tables import timers
from tests.ops.helpers import AGENT_PRINCIPAL, events_for, later, payload, person, propose, verbs

OLGA, OTTO, CARL = person("olga", "ops"), person("otto", "ops"), person("carl", "compliance")
HOUR = 3600


async def pending_timers(db: Database, action_id: str) -> list[str]:
    query = (
        select(timers.c.kind)
        .where(timers.c.action_id == action_id, timers.c.state == "pending")
        .order_by(timers.c.kind)
    )
    async with db.transaction() as session:
        return list((await session.execute(query)).scalars())


async def approved(db: Database, risk: Risk = Risk.LOW) -> Action:
    action = await propose(db, risk)
    return await service.approve(db, action_id=action.id, approver=OLGA, now=later(60))


async def test_changing_parameters_voids_earlier_votes_and_keeps_them(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(10))
    changed = await lifecycle.update_parameters(
        ops_db,
        action_id=action.id,
        actor=AGENT_PRINCIPAL,
        parameters={"feed": "XNAS-ITCH", "to": "tertiary"},
        reason="secondary is degraded too",
        now=later(20),
    )
    assert changed.parameters_version == 2
    assert changed.approvals == 0
    assert [(v.voter, v.voided) for v in changed.votes] == [("olga", True)]
    again = await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(30))
    assert again.approvals == 1
    assert [(v.parameters_version, v.voided) for v in again.votes] == [(1, True), (2, False)]
    done = await service.approve(ops_db, action_id=action.id, approver=CARL, now=later(40))
    assert done.state is State.APPROVED
    event = (await events_for(ops_db, action.id))[2]
    assert event["action"] == "ops.action.parameters_updated"
    assert payload(event)["voided_votes"] == ["olga"]
    assert payload(event)["to"] == {"feed": "XNAS-ITCH", "to": "tertiary"}


async def test_parameters_of_a_decided_action_cannot_change(ops_db: Database) -> None:
    action = await approved(ops_db)
    with pytest.raises(Conflict, match="APPROVED"):
        await lifecycle.update_parameters(
            ops_db, action_id=action.id, actor=OTTO, parameters={}, reason="", now=later(70)
        )
    assert (await events_for(ops_db, action.id))[-1]["outcome"] == "denied"


async def test_the_requester_cancels_with_a_reason_and_timers_stop(ops_db: Database) -> None:
    action = await propose(ops_db)
    assert await pending_timers(ops_db, action.id) == ["expire"]
    rita = person("rita", "trader")
    cancelled = await lifecycle.cancel(
        ops_db, action_id=action.id, actor=rita, reason="feed recovered", now=later(5)
    )
    assert cancelled.state is State.CANCELLED
    assert cancelled.cancel_reason == "feed recovered"
    assert await pending_timers(ops_db, action.id) == []
    assert verbs(await events_for(ops_db, action.id))[-1] == "ops.action.cancelled"


async def test_a_trader_who_did_not_request_it_cannot_cancel(ops_db: Database) -> None:
    action = await propose(ops_db)
    with pytest.raises(PermissionDenied, match="requester"):
        await lifecycle.cancel(
            ops_db, action_id=action.id, actor=person("tom", "trader"), reason="x", now=later(5)
        )
    assert (await service.get(ops_db, action_id=action.id)).state is State.PENDING_APPROVAL
    assert (await events_for(ops_db, action.id))[-1]["outcome"] == "denied"


async def test_cancelling_needs_a_reason(ops_db: Database) -> None:
    action = await propose(ops_db)
    with pytest.raises(InvalidArgument, match="reason"):
        await lifecycle.cancel(ops_db, action_id=action.id, actor=OLGA, reason=" ", now=later(5))


async def test_an_executing_action_cannot_be_cancelled(ops_db: Database) -> None:
    action = await approved(ops_db)
    await execution.start_execution(
        ops_db, action_id=action.id, actor=AGENT_PRINCIPAL, executor="webhook:oms", now=later(70)
    )
    with pytest.raises(Conflict, match="cannot move from EXECUTING to CANCELLED"):
        await lifecycle.cancel(ops_db, action_id=action.id, actor=OLGA, reason="x", now=later(80))


async def test_expiry_is_idempotent_and_ignores_actions_not_yet_due(ops_db: Database) -> None:
    action = await propose(ops_db)
    early = await lifecycle.expire(ops_db, action_id=action.id, now=later(HOUR))
    assert early.state is State.PENDING_APPROVAL
    gone = await lifecycle.expire(ops_db, action_id=action.id, now=later(4 * HOUR))
    assert gone.state is State.EXPIRED
    again = await lifecycle.expire(ops_db, action_id=action.id, now=later(5 * HOUR))
    assert again.state is State.EXPIRED
    assert verbs(await events_for(ops_db, action.id)).count("ops.action.expired") == 1


async def test_approval_replaces_the_decision_timers_by_the_validity_timer(
    ops_db: Database,
) -> None:
    action = await approved(ops_db)
    assert await pending_timers(ops_db, action.id) == ["validity_end"]
    assert action.valid_until == later(60 + HOUR)
    late = await lifecycle.expire(ops_db, action_id=action.id, now=later(60 + HOUR))
    assert late.state is State.EXPIRED


async def test_execution_starts_inside_the_validity_window(ops_db: Database) -> None:
    action = await approved(ops_db)
    started = await execution.start_execution(
        ops_db, action_id=action.id, actor=AGENT_PRINCIPAL, executor="webhook:oms", now=later(61)
    )
    assert started.state is State.EXECUTING
    assert started.executor == "webhook:oms"
    assert await pending_timers(ops_db, action.id) == []
    done = await execution.record_result(
        ops_db,
        action_id=action.id,
        actor=AGENT_PRINCIPAL,
        outcome=State.EXECUTED,
        detail="exec-7781",
        now=later(65),
    )
    assert done.state is State.EXECUTED
    assert done.execution_detail == "exec-7781"


async def test_execution_past_the_window_expires_the_action_and_says_so(
    ops_db: Database,
) -> None:
    action = await approved(ops_db)
    with pytest.raises(Conflict, match=r"validity window ended at .*; it is now EXPIRED"):
        await execution.start_execution(
            ops_db, action_id=action.id, actor=AGENT_PRINCIPAL, executor="x", now=later(60 + HOUR)
        )
    assert (await service.get(ops_db, action_id=action.id)).state is State.EXPIRED
    events = await events_for(ops_db, action.id)
    assert verbs(events)[-2:] == ["ops.action.expired", "ops.action.execution_started"]
    assert events[-1]["outcome"] == "denied"


async def test_a_pending_action_cannot_start_executing(ops_db: Database) -> None:
    action = await propose(ops_db)
    with pytest.raises(Conflict, match="cannot move from PENDING_APPROVAL to EXECUTING"):
        await execution.start_execution(
            ops_db, action_id=action.id, actor=AGENT_PRINCIPAL, executor="x", now=later(5)
        )


async def test_a_person_resolves_an_unknown_outcome(ops_db: Database) -> None:
    action = await approved(ops_db)
    await execution.start_execution(
        ops_db, action_id=action.id, actor=AGENT_PRINCIPAL, executor="x", now=later(61)
    )
    unknown = await execution.record_result(
        ops_db,
        action_id=action.id,
        actor=AGENT_PRINCIPAL,
        outcome=State.OUTCOME_UNKNOWN,
        detail="OMS did not answer within 10 s",
        now=later(75),
    )
    assert unknown.state is State.OUTCOME_UNKNOWN
    with pytest.raises(PermissionDenied, match="person must check"):
        await execution.record_result(
            ops_db,
            action_id=action.id,
            actor=AGENT_PRINCIPAL,
            outcome=State.EXECUTED,
            detail="retry",
            now=later(80),
        )
    resolved = await execution.record_result(
        ops_db,
        action_id=action.id,
        actor=OTTO,
        outcome=State.FAILED,
        detail="OMS shows no failover",
        now=later(300),
    )
    assert resolved.state is State.FAILED


async def test_only_an_execution_outcome_can_be_recorded(ops_db: Database) -> None:
    action = await approved(ops_db)
    with pytest.raises(InvalidArgument, match="outcome"):
        await execution.record_result(
            ops_db, action_id=action.id, actor=OTTO, outcome=State.APPROVED, detail="", now=later(1)
        )
