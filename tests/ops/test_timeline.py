"""The timeline, assignment, acknowledgement and comments, on the real database."""

from __future__ import annotations

import pytest

from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.ops.domain.actions import Risk, State
from services.ops.service import assignment, execution, lifecycle
from services.ops.service import proposals as service
from tests.ops.helpers import AGENT_PRINCIPAL, events_for, later, person, propose, verbs

OLGA, OTTO, CARL = person("olga", "ops"), person("otto", "ops"), person("carl", "compliance")


async def test_the_timeline_tells_the_whole_story_oldest_first(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    aid = action.id
    await assignment.acknowledge(ops_db, action_id=aid, actor=OLGA, now=later(30))
    await assignment.assign(ops_db, action_id=aid, assignee="", team="", actor=OLGA, now=later(40))
    await assignment.comment(
        ops_db, action_id=aid, author=person("tom", "trader"), text="desk sees gaps", now=later(50)
    )
    await service.approve(ops_db, action_id=aid, approver=OLGA, now=later(60))
    await lifecycle.update_parameters(
        ops_db,
        action_id=aid,
        actor=AGENT_PRINCIPAL,
        parameters={"to": "dr"},
        reason="",
        now=later(70),
    )
    await service.approve(ops_db, action_id=aid, approver=OLGA, now=later(80))
    await service.approve(ops_db, action_id=aid, approver=CARL, now=later(90))
    await execution.start_execution(
        ops_db, action_id=aid, actor=AGENT_PRINCIPAL, executor="webhook:oms", now=later(100)
    )
    await execution.record_result(
        ops_db,
        action_id=aid,
        actor=AGENT_PRINCIPAL,
        outcome=State.EXECUTED,
        detail="ok",
        now=later(110),
    )
    entries = await assignment.entries(ops_db, action_id=aid)
    assert [(e.kind, e.actor, e.machine) for e in entries] == [
        ("state", "triage-agent", True),
        ("acknowledgement", "olga", False),
        ("assignment", "olga", False),
        ("comment", "tom", False),
        ("vote", "olga", False),
        ("parameters", "svc:agent", True),
        ("vote", "olga", False),
        ("vote", "carl", False),
        ("state", "carl", False),
        ("state", "svc:agent", True),
        ("execution", "svc:agent", True),
        ("state", "svc:agent", True),
        ("execution", "svc:agent", True),
    ]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[5].text == "parameters changed to version 2; voided the votes of olga"
    assert entries[8].text == "PENDING_APPROVAL -> APPROVED: quorum reached"


async def test_the_first_acknowledgement_counts_and_later_ones_are_only_noted(
    ops_db: Database,
) -> None:
    action = await propose(ops_db)
    first = await assignment.acknowledge(ops_db, action_id=action.id, actor=OLGA, now=later(30))
    second = await assignment.acknowledge(ops_db, action_id=action.id, actor=OTTO, now=later(60))
    assert first.acknowledged_at == later(30)
    assert second.acknowledged_at == later(30)
    entries = await assignment.entries(ops_db, action_id=action.id)
    assert [e.text for e in entries if e.kind == "acknowledgement"] == [
        "acknowledged",
        "acknowledged again",
    ]


async def test_an_empty_assignment_assigns_the_caller_and_a_team_can_be_named(
    ops_db: Database,
) -> None:
    action = await propose(ops_db)
    mine = await assignment.assign(
        ops_db, action_id=action.id, assignee="", team="", actor=OLGA, now=later(5)
    )
    assert (mine.assignee, mine.assignee_team) == ("olga", "")
    team = await assignment.assign(
        ops_db, action_id=action.id, assignee="", team="risk-desk", actor=None, now=later(9)
    )
    assert (team.assignee, team.assignee_team) == ("", "risk-desk")
    [*_, entry] = await assignment.entries(ops_db, action_id=action.id)
    assert (entry.actor, entry.machine, entry.text) == (
        "ops-timers",
        True,
        "assigned to team risk-desk",
    )
    assert verbs(await events_for(ops_db, action.id)).count("ops.action.assigned") == 2


async def test_a_finished_action_cannot_be_assigned_but_its_timeline_stays(
    ops_db: Database,
) -> None:
    action = await propose(ops_db)
    await lifecycle.expire(ops_db, action_id=action.id, now=later(5 * 3600))
    with pytest.raises(Conflict, match="EXPIRED"):
        await assignment.assign(
            ops_db, action_id=action.id, assignee="otto", team="", actor=OLGA, now=later(6 * 3600)
        )
    await assignment.comment(
        ops_db, action_id=action.id, author=OLGA, text="nobody looked", now=later(7 * 3600)
    )
    kinds = [e.kind for e in await assignment.entries(ops_db, action_id=action.id)]
    assert kinds == ["state", "state", "comment"]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
async def test_a_comment_has_one_to_4000_characters(ops_db: Database, text: str) -> None:
    action = await propose(ops_db)
    with pytest.raises(InvalidArgument, match="1 to 4000"):
        await assignment.comment(ops_db, action_id=action.id, author=OLGA, text=text, now=later(1))


async def test_the_timeline_of_an_unknown_action_is_not_found(ops_db: Database) -> None:
    with pytest.raises(NotFound):
        await assignment.entries(ops_db, action_id="00000000-0000-0000-0000-000000000000")
