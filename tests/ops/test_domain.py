"""The action state machine and the policy rules, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runtime.errors import Conflict, InvalidArgument, NotFound
from services.ops.domain.actions import TRANSITIONS, Action, State
from services.ops.domain.policy import (
    Policy,
    Risk,
    RoleRequirement,
    from_snapshot,
    select,
    snapshot,
    validate,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AGENT = {"subject": "triage-agent", "kind": "agent", "logic_version": "1.4", "roles": []}


def action(**changes: Any) -> Action:
    made = Action(
        id="a1",
        kind="failover_market_data_feed",
        parameters={"feed": "XNAS-ITCH"},
        risk=Risk.LOW,
        rationale="latency above 50 ms for 3 minutes",
        requested_by="rita",
        proposed_by=AGENT,
        source_ref="decision/1",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(made, **changes)


LEGAL = [(start, end) for start, ends in TRANSITIONS.items() for end in ends]
ILLEGAL = [(start, end) for start in State for end in State if (start, end) not in LEGAL]


@pytest.mark.parametrize(("start", "end"), LEGAL)
def test_every_documented_transition_is_allowed(start: State, end: State) -> None:
    assert action(state=start).moved_to(end, NOW).state is end


@pytest.mark.parametrize(("start", "end"), ILLEGAL)
def test_any_other_transition_is_a_conflict_naming_both_states(start: State, end: State) -> None:
    with pytest.raises(Conflict, match=f"cannot move from {start} to {end}"):
        action(state=start).moved_to(end, NOW)


def test_an_outcome_unknown_can_only_be_resolved_to_executed_or_failed() -> None:
    assert TRANSITIONS[State.OUTCOME_UNKNOWN] == {State.EXECUTED, State.FAILED}


def test_a_pending_action_expires_after_its_policy_ttl() -> None:
    made = action(policy=Policy(id="p", pending_ttl_s=600))
    fresh = Action(**{**made.__dict__, "expires_at": None})
    assert fresh.expires_at == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("missing", ["kind", "requested_by", "source_ref"])
def test_an_action_needs_a_kind_a_requester_and_a_source_ref(missing: str) -> None:
    blank: dict[str, Any] = {missing: " "}
    with pytest.raises(InvalidArgument, match=missing):
        action(**blank)


def test_kill_switch_actions_are_compliance_relevant_whatever_the_policy() -> None:
    assert action(kind="disable_strategy_kill_switch").compliance_relevant
    assert not action().compliance_relevant
    assert action(policy=Policy(id="p", compliance_relevant=True)).compliance_relevant


POLICIES = [
    Policy(id="default"),
    Policy(id="high-risk", risk=Risk.HIGH, approvals_required=2),
    Policy(id="kill-switch", action_kind="disable_strategy_kill_switch"),
    Policy(id="kill-critical", action_kind="disable_strategy_kill_switch", risk=Risk.CRITICAL),
]


@pytest.mark.parametrize(
    ("kind", "risk", "chosen"),
    [
        ("failover_market_data_feed", Risk.LOW, "default"),
        ("failover_market_data_feed", Risk.HIGH, "high-risk"),
        ("disable_strategy_kill_switch", Risk.HIGH, "kill-switch"),
        ("disable_strategy_kill_switch", Risk.CRITICAL, "kill-critical"),
    ],
)
def test_the_most_specific_policy_wins(kind: str, risk: Risk, chosen: str) -> None:
    assert select(POLICIES, kind, risk).id == chosen


def test_an_action_no_policy_governs_is_not_found() -> None:
    with pytest.raises(NotFound, match="no approval policy"):
        select([Policy(id="only-kills", action_kind="kill")], "failover", Risk.LOW)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"approvals_required": 0}, "approvals_required"),
        ({"rejections_to_reject": 0}, "rejections_to_reject"),
        ({"pending_ttl_s": 0}, "pending_ttl_s"),
        ({"validity_s": -1}, "validity_s"),
        ({"role_requirements": (RoleRequirement("trader", 1),)}, "cannot approve"),
        ({"role_requirements": (RoleRequirement("ops", 0),)}, "at least 1"),
        (
            {"role_requirements": (RoleRequirement("ops", 1), RoleRequirement("compliance", 1))},
            "more than approvals_required",
        ),
    ],
)
def test_a_policy_that_cannot_work_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validate(replace(Policy(id="p"), **changes))


def test_a_policy_snapshot_round_trips() -> None:
    policy = Policy(
        id="critical",
        risk=Risk.CRITICAL,
        approvals_required=2,
        role_requirements=(RoleRequirement("compliance", 1), RoleRequirement("ops", 1)),
        changed_at=NOW,
        version=3,
    )
    assert from_snapshot(snapshot(policy)) == policy
