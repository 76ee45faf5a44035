from __future__ import annotations

import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from services.ops.domain.actions import State
from services.ops.domain.escalation import EscalationPolicy, Level
from services.ops.service import assignment
from services.ops.service import proposals as service
from services.ops.service.escalation import escalate
from services.ops.service.escalation_policies import list_escalation_policies, put_escalation_policy
from tests.ops.helpers import events_for
from tests.ops.test_timers_support import (
    ADMIN,
    FakeClock,
    governed_kind,
    ladder,
    propose,
    sent,
    tick,
    verbs,
)

OLGA = Principal("olga", frozenset({"ops"}))


async def test_levels_fire_in_order_notifying_reassigning_and_repeating_up_to_the_limit(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("desk", repeat_limit=1), clock(), ttl_s=4 * 3600)
    action = await propose(ops_db, kind, clock())

    await tick(ops_db, clock, 299)
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 0
    await tick(ops_db, clock, 1)
    level_one = await service.get(ops_db, action_id=action.id)
    assert level_one.escalation_level == 1
    assert level_one.assignee_team == ""
    assert [d for d, _ in await sent(ops_db, action.id)] == ["slack-ops"]

    await tick(ops_db, clock, 600)
    level_two = await service.get(ops_db, action_id=action.id)
    assert (level_two.escalation_level, level_two.assignee_team) == (2, "risk-desk")
    await tick(ops_db, clock, 600)  # the one repeat of the last level
    await tick(ops_db, clock, 3000)  # repeat_limit reached: nothing more
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 3

    notices = await sent(ops_db, action.id)
    assert [d for d, _ in notices] == ["slack-ops", "teams-risk", "teams-risk"]
    assert [body["escalation_level"] for _, body in notices] == [1, 2, 3]
    assert "escalated to level 2" in notices[1][1]["text"]
    assert (await verbs(ops_db, action.id)).count("ops.action.escalated") == 3
    entries = await assignment.entries(ops_db, action_id=action.id)
    escalations = [e for e in entries if e.kind == "escalation"]
    assert [(e.actor, e.machine) for e in escalations] == [("ops-escalation", True)] * 3


async def test_an_acknowledged_action_never_reaches_level_one(ops_db: Database) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("acked"), clock())
    action = await propose(ops_db, kind, clock())
    await assignment.acknowledge(ops_db, action_id=action.id, actor=OLGA, now=clock.advance(120))

    await tick(ops_db, clock, 300)
    await tick(ops_db, clock, 900)
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 0
    assert await sent(ops_db, action.id) == []


async def test_acknowledging_after_level_one_does_not_stop_level_two(ops_db: Database) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("late-ack", repeat_limit=0), clock())
    action = await propose(ops_db, kind, clock())
    await tick(ops_db, clock, 300)
    await assignment.acknowledge(ops_db, action_id=action.id, actor=OLGA, now=clock.advance(10))

    await tick(ops_db, clock, 600)
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 2


async def test_a_decided_action_stops_escalating(ops_db: Database) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("decided"), clock())
    action = await propose(ops_db, kind, clock())
    await tick(ops_db, clock, 300)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=clock.advance(60))

    await tick(ops_db, clock, 600)
    await tick(ops_db, clock, 600)
    decided = await service.get(ops_db, action_id=action.id)
    assert (decided.state, decided.escalation_level) == (State.APPROVED, 1)
    assert [d for d, _ in await sent(ops_db, action.id)] == ["slack-ops"]


async def test_escalating_by_hand_moves_up_a_level_and_restarts_the_clock(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("by-hand"), clock())
    action = await propose(ops_db, kind, clock())

    raised = await escalate(
        ops_db, action_id=action.id, actor=OLGA, reason="desk is down", now=clock.advance(10)
    )
    assert raised.escalation_level == 1
    await tick(ops_db, clock, 290)  # level 1's original timer: nothing more to do
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 1
    await tick(ops_db, clock, 310)  # 600 s after the manual escalation: level 2
    assert (await service.get(ops_db, action_id=action.id)).escalation_level == 2

    entries = await assignment.entries(ops_db, action_id=action.id)
    by_hand = next(e for e in entries if e.kind == "escalation")
    assert (by_hand.actor, by_hand.machine) == ("olga", False)
    assert "desk is down" in by_hand.text


async def test_escalating_an_action_without_an_escalation_policy_is_refused(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    action = await propose(ops_db, "failover_market_data_feed", clock())
    with pytest.raises(Conflict, match="no escalation policy"):
        await escalate(ops_db, action_id=action.id, actor=OLGA, reason="", now=clock())
    assert (await verbs(ops_db, action.id))[-1] == "ops.action.escalated"
    assert (await events_for(ops_db, action.id))[-1]["outcome"] == "denied"


async def test_a_reminder_goes_out_before_a_pending_action_expires(ops_db: Database) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("remind", remind_s=600), clock(), ttl_s=1800)
    action = await propose(ops_db, kind, clock())
    await assignment.acknowledge(ops_db, action_id=action.id, actor=OLGA, now=clock.advance(1))

    await tick(ops_db, clock, 1198)
    assert await sent(ops_db, action.id) == []
    await tick(ops_db, clock, 1)  # expires_at - 600 s
    ((destination, body),) = await sent(ops_db, action.id)
    assert (destination, body["event"]) == ("slack-ops", "ops.action.reminded")
    assert "expires at" in body["text"]
    entries = await assignment.entries(ops_db, action_id=action.id)
    assert [e.kind for e in entries].count("reminder") == 1


async def test_escalation_policies_are_versioned_and_listed_at_their_current_version(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    first = await put_escalation_policy(ops_db, ladder("versioned"), ADMIN, clock())
    second = await put_escalation_policy(
        ops_db, ladder("versioned", repeat_limit=3), ADMIN, clock.advance(5)
    )
    assert (first.version, second.version, second.changed_by) == (1, 2, "ada")
    current = {p.id: p for p in await list_escalation_policies(ops_db)}
    assert current["versioned"].version == 2
    assert current["versioned"].repeat_limit == 3


async def test_an_escalation_policy_without_levels_or_from_a_non_admin_is_refused(
    ops_db: Database,
) -> None:
    clock = FakeClock()
    with pytest.raises(InvalidArgument, match="at least one level"):
        await put_escalation_policy(ops_db, EscalationPolicy(id="empty"), ADMIN, clock())
    with pytest.raises(InvalidArgument, match="after_s"):
        await put_escalation_policy(
            ops_db, EscalationPolicy(id="zero", levels=(Level(after_s=0),)), ADMIN, clock()
        )
    with pytest.raises(PermissionDenied):
        await put_escalation_policy(ops_db, ladder("sneaky"), OLGA, clock())
