"""Proposing, reading and voting, on the real database."""

from __future__ import annotations

import pytest

from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from services.ops.domain.actions import Filters, Risk, State
from services.ops.domain.quorum import tally
from services.ops.service import proposals as service
from tests.ops.helpers import (
    AGENT_PRINCIPAL,
    NOW,
    events_for,
    later,
    payload,
    person,
    proposal,
    propose,
    verbs,
)

OLGA, OTTO, CARL = person("olga", "ops"), person("otto", "ops"), person("carl", "compliance")


async def test_a_service_proposal_is_pending_and_audited_as_the_agent(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    assert action.state is State.PENDING_APPROVAL
    assert action.approvals_required == 2
    assert action.policy.id == "high-risk"
    assert action.expires_at == later(4 * 3600)
    [event] = await events_for(ops_db, action.id)
    assert event["action"] == "ops.action.proposed"
    assert event["outcome"] == "success"
    assert event["actor"]["kind"] == "agent"
    assert event["actor"]["subject"] == "triage-agent"
    assert event["actor"]["logic_version"] == "1.4.0"
    assert payload(event)["risk"] == "HIGH"
    assert payload(event)["policy"] == {"id": "high-risk", "version": 1}


async def test_the_seeded_policies_govern_by_kind_and_risk(ops_db: Database) -> None:
    chosen = {
        (kind, risk): (await propose(ops_db, risk, kind=kind)).policy.id
        for kind, risk in [
            ("failover_market_data_feed", Risk.LOW),
            ("failover_market_data_feed", Risk.CRITICAL),
            ("disable_strategy_kill_switch", Risk.LOW),
        ]
    }
    assert list(chosen.values()) == ["default", "critical", "kill-switch"]


async def test_a_person_proposes_as_themselves_whatever_the_request_claims(
    ops_db: Database,
) -> None:
    action = await service.propose(ops_db, proposal=proposal(), proposer=OLGA, now=NOW)
    assert action.proposed_by["subject"] == "olga"
    assert action.proposed_by["kind"] == "person"


async def test_proposing_the_same_source_ref_again_returns_the_existing_action(
    ops_db: Database,
) -> None:
    first = await propose(ops_db, source_ref="d/7")
    again = await propose(ops_db, Risk.CRITICAL, source_ref="d/7")
    assert again.id == first.id
    assert again.risk is Risk.LOW
    assert len(await events_for(ops_db, first.id)) == 1


async def test_approval_reaching_quorum_writes_one_approved_event(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    once = await service.approve(
        ops_db, action_id=action.id, approver=OLGA, comment="ok", now=later(60)
    )
    done = await service.approve(ops_db, action_id=action.id, approver=CARL, now=later(120))
    assert once.state is State.PENDING_APPROVAL
    assert tally(once).needs == "1 more approval needed, from: compliance (1)"
    assert done.state is State.APPROVED
    assert done.valid_until == later(120 + 3600)
    assert (await service.get(ops_db, action_id=action.id)).approvals == 2
    events = await events_for(ops_db, action.id)
    assert verbs(events) == [
        "ops.action.proposed",
        "ops.action.vote_recorded",
        "ops.action.vote_recorded",
        "ops.action.approved",
    ]
    assert [e["actor"]["subject"] for e in events[1:]] == ["olga", "carl", "carl"]
    assert payload(events[-1])["approvals"] == 2


async def test_a_rejection_writes_vote_and_rejected_events(ops_db: Database) -> None:
    action = await propose(ops_db)
    rejected = await service.reject(
        ops_db, action_id=action.id, approver=OLGA, comment="no", now=later(5)
    )
    assert rejected.state is State.REJECTED
    events = await events_for(ops_db, action.id)
    assert verbs(events)[1:] == ["ops.action.vote_recorded", "ops.action.rejected"]


async def test_a_refused_self_approval_is_audited_and_changes_nothing(ops_db: Database) -> None:
    action = await propose(ops_db)
    with pytest.raises(PermissionDenied, match="requester cannot approve"):
        await service.approve(
            ops_db, action_id=action.id, approver=person("rita", "ops"), now=later(5)
        )
    unchanged = await service.get(ops_db, action_id=action.id)
    assert unchanged.state is State.PENDING_APPROVAL
    assert unchanged.votes == ()
    denied = (await events_for(ops_db, action.id))[-1]
    assert denied["outcome"] == "denied"
    assert denied["actor"]["subject"] == "rita"
    assert "requester cannot approve" in payload(denied)["reason"]


@pytest.mark.parametrize(
    ("voter", "message"),
    [
        (AGENT_PRINCIPAL, "agent and other services can never vote"),
        (person("vic", "viewer", "trader"), "lacks an approver role"),
    ],
)
async def test_the_agent_and_non_approvers_are_refused_and_audited(
    ops_db: Database, voter: object, message: str
) -> None:
    action = await propose(ops_db)
    with pytest.raises(PermissionDenied, match=message):
        await service.approve(ops_db, action_id=action.id, approver=voter, now=later(5))  # type: ignore[arg-type]
    assert (await events_for(ops_db, action.id))[-1]["outcome"] == "denied"


async def test_a_high_risk_action_is_not_approved_without_compliance(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    once = await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(5))
    assert once.state is State.PENDING_APPROVAL
    with pytest.raises(PermissionDenied, match="needs compliance or admin"):
        await service.approve(ops_db, action_id=action.id, approver=OTTO, now=later(6))
    assert (await service.get(ops_db, action_id=action.id)).approvals == 1
    assert (await events_for(ops_db, action.id))[-1]["outcome"] == "denied"
    done = await service.approve(ops_db, action_id=action.id, approver=CARL, now=later(7))
    assert done.state is State.APPROVED


async def test_a_late_vote_on_a_decided_action_is_refused_and_audited(ops_db: Database) -> None:
    action = await propose(ops_db)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(5))
    with pytest.raises(Conflict, match="APPROVED"):
        await service.reject(ops_db, action_id=action.id, approver=CARL, now=later(6))
    assert (await service.get(ops_db, action_id=action.id)).state is State.APPROVED
    outcomes = [e["outcome"] for e in await events_for(ops_db, action.id)]
    assert outcomes == ["success", "success", "success", "denied"]


async def test_a_vote_after_the_pending_ttl_expires_the_action_and_is_refused(
    ops_db: Database,
) -> None:
    action = await propose(ops_db)
    with pytest.raises(Conflict, match="expired"):
        await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(4 * 3600))
    assert (await service.get(ops_db, action_id=action.id)).state is State.EXPIRED
    events = await events_for(ops_db, action.id)
    assert verbs(events)[1:] == ["ops.action.expired", "ops.action.vote_recorded"]
    assert events[-1]["outcome"] == "denied"


async def test_a_second_vote_by_the_same_person_is_refused(ops_db: Database) -> None:
    action = await propose(ops_db, Risk.HIGH)
    await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(5))
    with pytest.raises(Conflict, match="already voted"):
        await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(6))
    assert (await service.get(ops_db, action_id=action.id)).approvals == 1


async def test_unknown_and_malformed_ids_are_refused(ops_db: Database) -> None:
    with pytest.raises(NotFound):
        await service.get(ops_db, action_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidArgument):
        await service.get(ops_db, action_id="not-a-uuid")


async def test_actions_are_listed_newest_first_across_pages(ops_db: Database) -> None:
    made = [await propose(ops_db, now=later(3600 * 24 * 365 * 20 + i)) for i in range(5)]
    seen, token = [], ""
    while True:
        page, token = await service.list_actions(ops_db, page_size=2, page_token=token)
        assert len(page) <= 2
        seen += [a.id for a in page]
        if not token:
            break
    assert seen[:5] == [a.id for a in reversed(made)]
    assert len(seen) == len(set(seen))


async def test_actions_can_be_filtered_by_state_kind_risk_and_assignee(ops_db: Database) -> None:
    kind = "drain_gateway_session"
    kept = await propose(ops_db, kind=kind)
    gone = await propose(ops_db, Risk.MEDIUM, kind=kind)
    await service.reject(ops_db, action_id=gone.id, approver=OLGA, now=later(5))
    await service.assign(ops_db, action_id=kept.id, assignee="", team="", actor=OTTO, now=later(6))

    async def ids(**wanted: object) -> set[str]:
        found, _ = await service.list_actions(ops_db, filters=Filters(**wanted), page_size=500)  # type: ignore[arg-type]
        return {a.id for a in found}

    assert await ids(state=State.REJECTED, kind=kind) == {gone.id}
    assert await ids(kind=kind, risk=Risk.LOW) == {kept.id}
    assert await ids(kind=kind) == {kept.id, gone.id}
    assert kept.id in await ids(assignee="otto", state=State.PENDING_APPROVAL)


async def test_a_forged_page_token_is_refused(ops_db: Database) -> None:
    with pytest.raises(InvalidArgument, match="page_token"):
        await service.list_actions(ops_db, page_token="bm90LWEtdG9rZW4")
