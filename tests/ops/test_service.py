from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from services.ops import service
from services.ops.domain import Risk, State
from tests.ops.helpers import events_for, proposal

Principals = Callable[..., Principal]


async def test_a_service_proposal_is_pending_and_audited_as_the_agent(
    ops_db: Database, principal_for: Principals
) -> None:
    action = await service.propose(
        ops_db, proposal=proposal(Risk.HIGH), proposer=principal_for("svc:agent", "service")
    )
    assert action.state is State.PENDING_APPROVAL
    assert action.approvals_required == 2
    [event] = await events_for(ops_db, action.id)
    assert event["action"] == "ops.action.proposed"
    assert event["outcome"] == "success"
    assert event["source"] == "ops"
    assert event["actor"]["kind"] == "agent"
    assert event["actor"]["subject"] == "triage-agent"
    assert event["actor"]["logic_version"] == "1.4.0"
    assert json.loads(event["payload_json"])["risk"] == "HIGH"


async def test_a_person_proposes_as_themselves_whatever_the_request_claims(
    ops_db: Database, principal_for: Principals
) -> None:
    action = await service.propose(
        ops_db, proposal=proposal(), proposer=principal_for("olga", "ops")
    )
    assert action.proposed_by["subject"] == "olga"
    assert action.proposed_by["kind"] == "person"


async def test_proposing_the_same_source_ref_again_returns_the_existing_action(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    first = await service.propose(ops_db, proposal=proposal(source_ref="d/7"), proposer=agent)
    again = await service.propose(
        ops_db, proposal=proposal(Risk.CRITICAL, source_ref="d/7"), proposer=agent
    )
    assert again.id == first.id
    assert again.risk is Risk.LOW
    assert len(await events_for(ops_db, first.id)) == 1


async def test_approval_reaching_quorum_writes_vote_and_approved_events(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(ops_db, proposal=proposal(Risk.HIGH), proposer=agent)
    olga, carl = principal_for("olga", "ops"), principal_for("carl", "compliance")
    once = await service.approve(ops_db, action_id=action.id, approver=olga, comment="ok")
    done = await service.approve(ops_db, action_id=action.id, approver=carl)
    assert once.state is State.PENDING_APPROVAL
    assert done.state is State.APPROVED
    assert (await service.get(ops_db, action_id=action.id)).approvals == 2
    events = await events_for(ops_db, action.id)
    assert [e["action"] for e in events] == [
        "ops.action.proposed",
        "ops.action.vote_recorded",
        "ops.action.vote_recorded",
        "ops.action.approved",
    ]
    assert [e["actor"]["subject"] for e in events[1:]] == ["olga", "carl", "carl"]


async def test_a_rejection_writes_vote_and_rejected_events(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(ops_db, proposal=proposal(), proposer=agent)
    olga = principal_for("olga", "ops")
    rejected = await service.reject(ops_db, action_id=action.id, approver=olga, comment="no")
    assert rejected.state is State.REJECTED
    events = await events_for(ops_db, action.id)
    assert [e["action"] for e in events[1:]] == ["ops.action.vote_recorded", "ops.action.rejected"]


async def test_a_refused_self_approval_is_audited_and_changes_nothing(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(ops_db, proposal=proposal(), proposer=agent)
    rita = principal_for("rita", "ops")
    with pytest.raises(PermissionDenied, match="requester cannot approve"):
        await service.approve(ops_db, action_id=action.id, approver=rita)
    unchanged = await service.get(ops_db, action_id=action.id)
    assert unchanged.state is State.PENDING_APPROVAL
    assert unchanged.votes == ()
    denied = (await events_for(ops_db, action.id))[-1]
    assert denied["outcome"] == "denied"
    assert denied["actor"]["subject"] == "rita"
    assert "requester cannot approve" in json.loads(denied["payload_json"])["reason"]


async def test_a_vote_on_a_decided_action_is_refused_and_audited(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(ops_db, proposal=proposal(), proposer=agent)
    await service.approve(ops_db, action_id=action.id, approver=principal_for("olga", "ops"))
    carl = principal_for("carl", "compliance")
    with pytest.raises(Conflict, match="APPROVED"):
        await service.reject(ops_db, action_id=action.id, approver=carl)
    assert (await service.get(ops_db, action_id=action.id)).state is State.APPROVED
    outcomes = [e["outcome"] for e in await events_for(ops_db, action.id)]
    assert outcomes == ["success", "success", "success", "denied"]


async def test_a_second_vote_by_the_same_person_is_refused(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(ops_db, proposal=proposal(Risk.HIGH), proposer=agent)
    olga = principal_for("olga", "ops")
    await service.approve(ops_db, action_id=action.id, approver=olga)
    with pytest.raises(Conflict, match="already voted"):
        await service.approve(ops_db, action_id=action.id, approver=olga)
    assert (await service.get(ops_db, action_id=action.id)).approvals == 1


async def test_unknown_and_malformed_ids_are_refused(ops_db: Database) -> None:
    with pytest.raises(NotFound):
        await service.get(ops_db, action_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidArgument):
        await service.get(ops_db, action_id="not-a-uuid")


async def test_actions_are_listed_newest_first_across_pages(
    ops_db: Database, principal_for: Principals
) -> None:
    agent = principal_for("svc:agent", "service")
    made = [await service.propose(ops_db, proposal=proposal(), proposer=agent) for _ in range(5)]
    seen, token = [], ""
    while True:
        page, token = await service.list_actions(ops_db, page_size=2, page_token=token)
        assert len(page) <= 2
        seen += [a.id for a in page]
        if not token:
            break
    assert seen[:5] == [a.id for a in reversed(made)]
    assert len(seen) == len(set(seen))


async def test_actions_can_be_listed_by_state(ops_db: Database, principal_for: Principals) -> None:
    agent = principal_for("svc:agent", "service")
    kept = await service.propose(ops_db, proposal=proposal(), proposer=agent)
    gone = await service.propose(ops_db, proposal=proposal(), proposer=agent)
    await service.reject(ops_db, action_id=gone.id, approver=principal_for("olga", "ops"))
    rejected, _ = await service.list_actions(ops_db, state=State.REJECTED, page_size=500)
    ids = {a.id for a in rejected}
    assert gone.id in ids
    assert kept.id not in ids


async def test_a_forged_page_token_is_refused(ops_db: Database) -> None:
    with pytest.raises(InvalidArgument, match="page_token"):
        await service.list_actions(ops_db, page_token="bm90LWEtdG9rZW4")
