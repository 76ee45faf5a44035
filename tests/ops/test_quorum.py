"""Quorum and separation of duties, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from runtime.errors import Conflict, PermissionDenied
from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.policy import Policy, Risk, RoleRequirement
from services.ops.domain.quorum import decide, needs_text, tally

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AGENT = {"subject": "triage-agent", "kind": "agent", "logic_version": "1.4", "roles": []}
CRITICAL = Policy(
    id="critical",
    risk=Risk.CRITICAL,
    approvals_required=2,
    role_requirements=(RoleRequirement("compliance", 1), RoleRequirement("ops", 1)),
)


def action(risk: Risk = Risk.LOW, policy: Policy | None = None, **changes: Any) -> Action:
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
        policy=policy or Policy(id="default"),
    )
    return replace(made, **changes)


def vote(voter: str, *roles: str, approve: bool = True) -> Vote:
    return Vote(voter, frozenset(roles), approve, "", NOW)


def cast(start: Action, *votes: Vote) -> tuple[Action, State | None]:
    """Casts the votes in order, stopping at the first decision."""
    current, outcome = start, None
    for each in votes:
        current, outcome = decide(current, each)
        if outcome is not None:
            return current.moved_to(outcome, NOW), outcome
    return current, outcome


def test_one_ops_approval_approves_under_the_default_policy() -> None:
    decided, outcome = cast(action(), vote("olga", "ops"))
    assert outcome is State.APPROVED
    assert tally(decided).approvals == 1


def test_m_of_n_waits_for_m_distinct_approvals() -> None:
    three = action(policy=Policy(id="p", approvals_required=3))
    twice, outcome = cast(three, vote("olga", "ops"), vote("otto", "ops"))
    assert outcome is None
    assert tally(twice).needs == "1 more approval needed"
    assert cast(twice, vote("ada", "admin"))[1] is State.APPROVED


def test_k_rejections_reject() -> None:
    two_to_reject = action(policy=Policy(id="p", approvals_required=3, rejections_to_reject=2))
    once, outcome = cast(two_to_reject, vote("olga", "ops", approve=False))
    assert outcome is None
    assert tally(once).rejections == 1
    assert cast(once, vote("otto", "ops", approve=False))[1] is State.REJECTED


def test_a_critical_action_needs_a_compliance_and_an_ops_approval() -> None:
    once, outcome = cast(action(Risk.CRITICAL, CRITICAL), vote("olga", "ops"))
    assert outcome is None
    counted = tally(once)
    assert counted.approvals == 1
    assert counted.approvals_missing == 1
    assert counted.roles_missing == (RoleRequirement("compliance", 1),)
    assert counted.needs == "1 more approval needed, from: compliance (1)"
    with pytest.raises(PermissionDenied, match="otto's approval would not count"):
        decide(once, vote("otto", "ops"))
    assert cast(once, vote("carl", "compliance"))[1] is State.APPROVED


def test_an_approver_holding_two_roles_fills_one_requirement_only() -> None:
    both = vote("bea", "ops", "compliance")
    once, outcome = cast(action(Risk.CRITICAL, CRITICAL), both)
    assert outcome is None
    assert tally(once).approvals_missing == 1
    # Whichever slot bea fills, an ops person completes it: the matching reassigns her.
    assert cast(once, vote("olga", "ops"))[1] is State.APPROVED
    assert cast(action(Risk.CRITICAL, CRITICAL), both, vote("carl", "compliance"))[1] is (
        State.APPROVED
    )


def test_the_order_of_votes_does_not_change_whether_requirements_are_met() -> None:
    both, ops_only = vote("bea", "ops", "compliance"), vote("olga", "ops")
    assert cast(action(Risk.CRITICAL, CRITICAL), ops_only, both)[1] is State.APPROVED


def test_a_sensitive_action_needs_a_compliance_or_admin_approval() -> None:
    once, outcome = cast(
        action(Risk.HIGH, Policy(id="loose", approvals_required=2)), vote("olga", "ops")
    )
    assert outcome is None
    assert tally(once).needs == "1 more approval needed, from: compliance (1)"
    with pytest.raises(PermissionDenied, match="needs compliance or admin"):
        decide(once, vote("otto", "ops"))
    assert cast(once, vote("ada", "admin"))[1] is State.APPROVED


def test_a_compliance_relevant_kind_needs_compliance_even_at_low_risk() -> None:
    kill = action(kind="disable_strategy_kill_switch")
    with pytest.raises(PermissionDenied, match="needs compliance or admin"):
        decide(kill, vote("olga", "ops"))
    assert cast(kill, vote("carl", "compliance"))[1] is State.APPROVED


def test_needs_reads_like_a_sentence() -> None:
    fresh = tally(action(Risk.CRITICAL, CRITICAL))
    assert fresh.needs == "2 more approvals needed, from: compliance (1), ops (1)"
    assert needs_text(3, (RoleRequirement("compliance", 1),)) == (
        "3 more approvals needed, from: compliance (1), any approver (2)"
    )
    assert needs_text(0, ()) == ""


def test_a_decided_action_needs_nothing() -> None:
    decided, _ = cast(action(), vote("olga", "ops"))
    assert tally(decided).needs == ""


@pytest.mark.parametrize(
    ("voter", "message"),
    [
        (vote("rita", "ops", "compliance"), "a requester cannot approve their own action"),
        (vote("svc:agent", "service"), "the agent and other services can never vote"),
        (vote("triage-agent", "ops"), "a proposer cannot approve"),
        (vote("vic", "viewer", "trader"), "lacks an approver role"),
    ],
)
def test_separation_of_duties_refuses_the_vote(voter: Vote, message: str) -> None:
    with pytest.raises(PermissionDenied, match=message):
        decide(action(), voter)


def test_the_same_person_cannot_vote_twice() -> None:
    once, _ = cast(action(Risk.HIGH, Policy(id="p", approvals_required=2)), vote("olga", "ops"))
    with pytest.raises(Conflict, match="olga already voted"):
        decide(once, vote("olga", "ops", approve=False))


def test_a_vote_on_a_decided_action_is_refused_naming_its_state() -> None:
    decided, _ = cast(action(), vote("olga", "ops"))
    with pytest.raises(Conflict, match="APPROVED"):
        decide(decided, vote("carl", "compliance", approve=False))


def test_votes_on_earlier_parameters_do_not_count() -> None:
    two = action(policy=Policy(id="p", approvals_required=2))
    once, _ = cast(two, vote("olga", "ops"))
    edited = replace(once, parameters_version=2)
    assert tally(edited).approvals == 0
    again, outcome = decide(edited, vote("olga", "ops"))
    assert outcome is None
    assert again.votes[-1].parameters_version == 2
    assert tally(again).approvals == 1
