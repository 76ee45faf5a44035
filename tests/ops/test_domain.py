from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from services.ops.domain import Action, Risk, State, Vote, approvals_required_for

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AGENT = {"subject": "triage-agent", "kind": "agent", "logic_version": "1.4", "roles": []}


def action(risk: Risk = Risk.LOW, **changes: Any) -> Action:
    made = Action(
        id="a1",
        kind="failover_market_data_feed",
        parameters={"feed": "XNAS-ITCH"},
        risk=risk,
        rationale="latency above 50 ms for 3 minutes",
        requested_by="rita",
        proposed_by=AGENT,
        source_ref="decision/1",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(made, **changes)


def vote(voter: str, *roles: str, approve: bool = True) -> Vote:
    return Vote(voter, frozenset(roles), approve, "", NOW)


@pytest.mark.parametrize(
    ("risk", "needed"), [(Risk.LOW, 1), (Risk.MEDIUM, 1), (Risk.HIGH, 2), (Risk.CRITICAL, 2)]
)
def test_high_and_critical_risk_need_two_approvals(risk: Risk, needed: int) -> None:
    assert approvals_required_for(risk) == needed
    assert action(risk).approvals_required == needed


def test_one_ops_approval_approves_a_low_risk_action() -> None:
    decided = action().with_vote(vote("olga", "ops"))
    assert decided.state is State.APPROVED
    assert decided.approvals == 1


def test_a_high_risk_action_waits_for_its_second_approval() -> None:
    once = action(Risk.HIGH).with_vote(vote("carl", "compliance"))
    assert once.state is State.PENDING_APPROVAL
    assert once.with_vote(vote("olga", "ops")).state is State.APPROVED


def test_a_high_risk_action_needs_a_compliance_or_admin_approval() -> None:
    twice = action(Risk.CRITICAL).with_vote(vote("olga", "ops")).with_vote(vote("otto", "ops"))
    assert twice.state is State.PENDING_APPROVAL
    assert twice.approvals == 2
    assert twice.with_vote(vote("ada", "admin")).state is State.APPROVED


def test_a_requester_cannot_approve_their_own_action() -> None:
    with pytest.raises(PermissionDenied, match="a requester cannot approve their own action"):
        action().with_vote(vote("rita", "ops", "compliance"))


def test_a_person_who_proposed_an_action_cannot_approve_it() -> None:
    mine = action(proposed_by={"subject": "olga", "kind": "person"})
    with pytest.raises(PermissionDenied, match="proposer"):
        mine.with_vote(vote("olga", "ops"))


def test_the_agent_can_never_vote() -> None:
    with pytest.raises(PermissionDenied, match="agent"):
        action().with_vote(vote("svc:agent", "service"))


def test_a_voter_needs_an_approver_role() -> None:
    with pytest.raises(PermissionDenied, match="approver role"):
        action().with_vote(vote("vic", "viewer", "trader"))


def test_a_second_vote_by_the_same_person_is_refused() -> None:
    once = action(Risk.HIGH).with_vote(vote("olga", "ops"))
    with pytest.raises(Conflict, match="already voted"):
        once.with_vote(vote("olga", "ops", approve=False))
    assert once.state is State.PENDING_APPROVAL


def test_a_vote_on_a_decided_action_is_refused_naming_its_state() -> None:
    decided = action().with_vote(vote("olga", "ops"))
    with pytest.raises(Conflict, match="APPROVED"):
        decided.with_vote(vote("carl", "compliance", approve=False))


def test_one_rejection_rejects_even_a_high_risk_action() -> None:
    once = action(Risk.HIGH).with_vote(vote("carl", "compliance"))
    assert once.with_vote(vote("olga", "ops", approve=False)).state is State.REJECTED


def test_a_decided_action_cannot_change_state_again() -> None:
    rejected = action().with_vote(vote("olga", "ops", approve=False))
    with pytest.raises(Conflict, match="cannot move from REJECTED to APPROVED"):
        rejected.moved_to(State.APPROVED, NOW)


@pytest.mark.parametrize("missing", ["kind", "requested_by", "source_ref"])
def test_an_action_needs_a_kind_a_requester_and_a_source_ref(missing: str) -> None:
    blank: dict[str, Any] = {missing: " "}
    with pytest.raises(InvalidArgument, match=missing):
        action(**blank)
