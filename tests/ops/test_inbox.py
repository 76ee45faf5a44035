"""The inbox (ListActions awaiting_me): exactly the actions the caller may approve now, one test
per reason an action is not there, and the DEADLINE order paged across pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied
from services.ops.domain.actions import Action, Awaiting, Filters, Order, Risk, State
from services.ops.domain.eligibility import CHECKS, VOTER_CHECKS, explain
from services.ops.domain.policy import Policy
from services.ops.repository.listing import AWAITING
from services.ops.service import lifecycle, policies
from services.ops.service import proposals as service
from services.ops.service.transition import load
from tests.ops.conftest import START
from tests.ops.helpers import AGENT_PRINCIPAL, person, proposal

OLGA, OTTO, CARL = person("olga", "ops"), person("otto", "ops"), person("carl", "compliance")
NOW = START + timedelta(minutes=10)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


async def propose(db: Database, risk: Risk = Risk.LOW, seconds: float = 0, **extra: Any) -> Action:
    made = proposal(risk, **extra)
    return await service.propose(db, proposal=made, proposer=AGENT_PRINCIPAL, now=at(seconds))


async def inbox(
    db: Database, who: Principal, order: Order = Order.NEWEST, when: datetime = NOW, size: int = 0
) -> list[Action]:
    """Every page of the caller's inbox, followed token by token."""
    filters = Filters(awaiting=Awaiting(who.subject, who.roles, when), order=order)
    found: list[Action] = []
    token = ""
    while True:
        page, token = await service.list_actions(
            db, filters=filters, page_size=size, page_token=token
        )
        found.extend(page)
        if not token:
            return found


async def ids(db: Database, who: Principal, **options: Any) -> list[str]:
    return [a.id for a in await inbox(db, who, **options)]


def test_the_inbox_asks_in_sql_what_every_check_of_the_vote_asks_of_an_action() -> None:
    assert set(AWAITING) == set(CHECKS) - set(VOTER_CHECKS)


async def test_a_votable_action_is_in_the_inbox_and_explained_as_votable(ops_db: Database) -> None:
    action = await propose(ops_db)

    assert await ids(ops_db, OLGA) == [action.id]
    assert explain(action, "olga", OLGA.roles, NOW).may_approve


async def test_the_requester_does_not_see_their_own_request(ops_db: Database) -> None:
    mine, other = await propose(ops_db, requested_by="olga"), await propose(ops_db)
    # Otto's parameters now: olga did not write them, and still requested the action.
    edited = await lifecycle.update_parameters(
        ops_db, action_id=mine.id, actor=OTTO, parameters={"to": "b"}, reason="r", now=at(5)
    )

    assert await ids(ops_db, OLGA) == [other.id]
    assert explain(edited, "olga", OLGA.roles, NOW).reason == "you requested this action"


async def test_the_proposer_does_not_see_their_own_proposal(ops_db: Database) -> None:
    agents = await propose(ops_db)  # proposed by triage-agent for rita
    peoples = await service.propose(ops_db, proposal=proposal(), proposer=OLGA, now=at(1))
    namesake = person("triage-agent", "ops")

    assert await ids(ops_db, namesake) == [peoples.id]
    assert explain(agents, "triage-agent", namesake.roles, NOW).reason == (
        "you proposed this action"
    )


async def test_whoever_edited_the_parameters_does_not_see_them(ops_db: Database) -> None:
    edited, other = await propose(ops_db), await propose(ops_db, seconds=1)
    after = await lifecycle.update_parameters(
        ops_db, action_id=edited.id, actor=OLGA, parameters={"to": "b"}, reason="r", now=at(5)
    )

    assert await ids(ops_db, OLGA) == [other.id]
    assert await ids(ops_db, OTTO) == [other.id, edited.id]
    assert explain(after, "olga", OLGA.roles, NOW).reason == "you edited its parameters"


async def two_of_each(db: Database) -> None:
    """Two approvals approve, two rejections reject: one vote of either leaves it pending."""
    policy = Policy(
        id="two-of-each",
        action_kind="failover_market_data_feed",
        approvals_required=2,
        rejections_to_reject=2,
        change_reason="four eyes either way",
    )
    await policies.put_policy(db, policy=policy, actor=person("ada", "admin"), now=at(-60))


async def test_an_action_the_caller_voted_on_leaves_their_inbox_only(ops_db: Database) -> None:
    await two_of_each(ops_db)
    action = await propose(ops_db)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=at(5))
    rejected_once = await service.reject(ops_db, action_id=action.id, approver=OTTO, now=at(6))

    assert rejected_once.state is State.PENDING_APPROVAL
    assert await ids(ops_db, OLGA) == await ids(ops_db, OTTO) == []
    assert await ids(ops_db, person("oona", "ops")) == [action.id]
    assert explain(rejected_once, "olga", OLGA.roles, NOW).reason == "you already approved it"
    assert explain(rejected_once, "otto", OTTO.roles, NOW).reason == "you already rejected it"


async def test_a_new_parameters_version_brings_it_back_to_whoever_voted(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=at(5))
    await lifecycle.update_parameters(
        ops_db, action_id=action.id, actor=OTTO, parameters={"to": "b"}, reason="r", now=at(6)
    )

    assert await ids(ops_db, OLGA) == [action.id]
    assert await ids(ops_db, OTTO) == []


async def test_a_decided_or_withdrawn_action_is_in_nobodys_inbox(ops_db: Database) -> None:
    approved, cancelled, pending = [await propose(ops_db, seconds=s) for s in (0, 1, 2)]
    done = await service.approve(ops_db, action_id=approved.id, approver=OTTO, now=at(5))
    await lifecycle.cancel(
        ops_db, action_id=cancelled.id, actor=OTTO, reason="recovered", now=at(6)
    )

    assert await ids(ops_db, OLGA) == [pending.id]
    assert explain(done, "olga", OLGA.roles, NOW).reason == "it is no longer pending (approved)"
    # The state alone keeps them out, whatever the stored roles say.
    async with ops_db.transaction() as session:
        await session.execute(text("UPDATE ops.actions SET approvable_by = '{ops}'"))
    assert await ids(ops_db, OLGA) == [pending.id]


async def test_an_action_past_its_deadline_is_gone_before_its_timer_fires(ops_db: Database) -> None:
    critical = await propose(ops_db, Risk.CRITICAL)  # pending for an hour
    low = await propose(ops_db)  # for four
    later = at(2 * 3600)

    assert await ids(ops_db, CARL, when=later) == [low.id]
    assert critical.state is State.PENDING_APPROVAL
    assert explain(critical, "carl", CARL.roles, later).reason == (
        "it is no longer pending (expired)"
    )


async def test_an_action_only_another_role_can_advance_is_theirs_not_yours(
    ops_db: Database,
) -> None:
    high = await propose(ops_db, Risk.HIGH)
    once = await service.approve(ops_db, action_id=high.id, approver=OLGA, now=at(5))

    assert await ids(ops_db, OTTO) == []
    assert await ids(ops_db, CARL) == [high.id]
    assert await ids(ops_db, person("ada", "admin")) == [high.id]
    assert explain(once, "otto", OTTO.roles, NOW).reason == "needs compliance or admin"
    with pytest.raises(PermissionDenied, match="needs compliance or admin"):
        await service.approve(ops_db, action_id=high.id, approver=OTTO, now=at(6))


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (person("vic", "viewer"), "your role (viewer) cannot vote"),
        (person("tom", "trader"), "your role (trader) cannot vote"),
        (AGENT_PRINCIPAL, "the agent and other services never vote"),
    ],
)
async def test_whoever_may_vote_on_nothing_has_an_empty_inbox(
    ops_db: Database, who: Principal, reason: str
) -> None:
    action = await propose(ops_db)

    assert await ids(ops_db, who) == []
    assert explain(action, who.subject, who.roles, NOW).reason == reason


async def test_the_inbox_is_exactly_what_explain_calls_approvable(ops_db: Database) -> None:
    made = [await propose(ops_db, risk, seconds=i) for i, risk in enumerate(list(Risk) * 2)]
    await service.approve(ops_db, action_id=made[2].id, approver=OLGA, now=at(20))  # HIGH
    await service.approve(ops_db, action_id=made[7].id, approver=CARL, now=at(21))  # CRITICAL
    await service.reject(ops_db, action_id=made[4].id, approver=OTTO, now=at(22))  # LOW
    await two_of_each(ops_db)  # the LOW ones from here on
    made += [await propose(ops_db, seconds=30 + i) for i in range(3)]
    await service.approve(ops_db, action_id=made[8].id, approver=OLGA, now=at(40))
    await service.reject(ops_db, action_id=made[9].id, approver=CARL, now=at(41))
    async with ops_db.transaction() as session:
        current = [await load(session, a.id) for a in made]
    for who in (OLGA, OTTO, CARL, person("ada", "admin"), person("bea", "ops", "compliance")):
        expected = {a.id for a in current if explain(a, who.subject, who.roles, NOW).may_approve}
        assert set(await ids(ops_db, who)) == expected, who.subject
        assert expected, who.subject


async def test_deadline_order_pages_by_deadline_then_risk_then_id(ops_db: Database) -> None:
    # LOW and HIGH pend four hours, CRITICAL one: equal deadlines at equal proposal times.
    plan = [(60, Risk.LOW), (60, Risk.HIGH), (0, Risk.LOW), (60, Risk.LOW), (11000, Risk.CRITICAL)]
    made = [
        await propose(ops_db, r, seconds=s) for s, r in [*plan, (0, Risk.MEDIUM), (30, Risk.HIGH)]
    ]
    rank = {Risk.CRITICAL: 0, Risk.HIGH: 1, Risk.MEDIUM: 2, Risk.LOW: 3}
    expected = [a.id for a in sorted(made, key=lambda a: (a.expires_at, rank[a.risk], a.id))]

    for size in (1, 2, 3, 50):
        assert await ids(ops_db, OLGA, order=Order.DEADLINE, size=size) == expected
    assert made[4].id == expected[-1]  # proposed three hours later, due in one
    assert expected[:2] == [made[5].id, made[2].id]  # the same deadline, MEDIUM before LOW


async def test_newest_first_pages_the_inbox_too(ops_db: Database) -> None:
    made = [await propose(ops_db, seconds=s) for s in (0, 10, 10, 20)]
    expected = [a.id for a in sorted(made, key=lambda a: (a.created_at, a.id), reverse=True)]

    assert await ids(ops_db, OLGA, size=1) == expected


async def test_a_page_after_an_action_left_the_inbox_continues_where_it_was(
    ops_db: Database,
) -> None:
    made = [await propose(ops_db, seconds=s) for s in range(5)]
    filters = Filters(awaiting=Awaiting("olga", OLGA.roles, NOW), order=Order.DEADLINE)
    first, token = await service.list_actions(ops_db, filters=filters, page_size=2)
    await service.approve(ops_db, action_id=made[2].id, approver=OTTO, now=at(30))
    rest, _ = await service.list_actions(ops_db, filters=filters, page_size=50, page_token=token)

    assert [a.id for a in first + rest] == [made[i].id for i in (0, 1, 3, 4)]


async def test_a_token_only_continues_the_order_it_came_from(ops_db: Database) -> None:
    for s in range(3):
        await propose(ops_db, seconds=s)
    by_deadline = Filters(awaiting=Awaiting("olga", OLGA.roles, NOW), order=Order.DEADLINE)
    newest = Filters(awaiting=Awaiting("olga", OLGA.roles, NOW))
    _, deadline_token = await service.list_actions(ops_db, filters=by_deadline, page_size=1)
    _, newest_token = await service.list_actions(ops_db, filters=newest, page_size=1)

    with pytest.raises(InvalidArgument, match="page_token"):
        await service.list_actions(ops_db, filters=newest, page_token=deadline_token)
    with pytest.raises(InvalidArgument, match="page_token"):
        await service.list_actions(ops_db, filters=by_deadline, page_token=newest_token)


def test_deadline_order_is_for_pending_actions() -> None:
    with pytest.raises(InvalidArgument, match="order DEADLINE lists pending actions"):
        Filters(order=Order.DEADLINE)
    assert Filters(state=State.PENDING_APPROVAL, order=Order.DEADLINE).order is Order.DEADLINE
