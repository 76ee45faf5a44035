"""Versioned approval policies: PutPolicy, ListPolicies and the snapshot on each action."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied
from services.ops.domain.actions import Risk, State
from services.ops.domain.policy import Policy, RoleRequirement
from services.ops.service import policies
from services.ops.service import proposals as service
from tests.ops.helpers import NOW, events_about, later, payload, person, propose

ADA, OLGA = person("ada", "admin"), person("olga", "ops")
KIND = "restart_pricing_engine"
STRICT = Policy(
    id="pricing",
    action_kind=KIND,
    approvals_required=2,
    role_requirements=(RoleRequirement("ops", 1),),
    change_reason="pricing restarts hurt",
)


async def test_a_new_policy_is_version_one_and_an_edit_is_the_next_version(
    ops_db: Database,
) -> None:
    first = await policies.put_policy(ops_db, policy=STRICT, actor=ADA, now=NOW)
    looser = replace(STRICT, approvals_required=1, change_reason="too slow at night")
    second = await policies.put_policy(ops_db, policy=looser, actor=ADA, now=later(60))
    assert (first.version, second.version) == (1, 2)
    assert (second.changed_by, second.changed_at) == ("ada", later(60))
    current = {p.id: p for p in await policies.list_policies(ops_db)}
    assert current["pricing"].version == 2
    history = await policies.list_policies(ops_db, include_history=True)
    assert [p.version for p in history if p.id == "pricing"] == [1, 2]
    assert {"default", "high-risk", "critical", "kill-switch"} <= set(current)


async def test_a_policy_change_is_audited_with_who_when_and_what_changed(
    ops_db: Database,
) -> None:
    await policies.put_policy(ops_db, policy=STRICT, actor=ADA, now=NOW)
    looser = replace(STRICT, approvals_required=1, change_reason="too slow at night")
    await policies.put_policy(ops_db, policy=looser, actor=ADA, now=later(60))
    [created, edited] = await events_about(ops_db, "policy/pricing")
    assert edited["action"] == "ops.policy.changed"
    assert edited["actor"]["subject"] == "ada"
    change = payload(edited)
    assert change["previous_version"] == 1
    assert change["changed"] == {"approvals_required": {"from": 2, "to": 1}}
    assert change["policy"]["change_reason"] == "too slow at night"
    assert payload(created)["previous_version"] == 0


async def test_only_an_admin_may_change_a_policy_and_a_refusal_is_audited(
    ops_db: Database,
) -> None:
    with pytest.raises(PermissionDenied, match="admin"):
        await policies.put_policy(ops_db, policy=STRICT, actor=OLGA, now=NOW)
    [denied] = await events_about(ops_db, "policy/pricing")
    assert (denied["outcome"], denied["actor"]["subject"]) == ("denied", "olga")


async def test_an_impossible_policy_is_refused(ops_db: Database) -> None:
    broken = replace(STRICT, role_requirements=(RoleRequirement("ops", 3),))
    with pytest.raises(InvalidArgument, match="more than approvals_required"):
        await policies.put_policy(ops_db, policy=broken, actor=ADA, now=NOW)
    with pytest.raises(InvalidArgument, match="change_reason"):
        await policies.put_policy(
            ops_db, policy=replace(STRICT, change_reason=""), actor=ADA, now=NOW
        )


async def test_an_action_keeps_the_policy_it_was_proposed_under(ops_db: Database) -> None:
    await policies.put_policy(ops_db, policy=STRICT, actor=ADA, now=NOW)
    action = await propose(ops_db, kind=KIND, now=later(10))
    assert (action.policy.id, action.policy.version, action.approvals_required) == (
        "pricing",
        1,
        2,
    )
    looser = replace(STRICT, approvals_required=1, role_requirements=(), change_reason="x")
    await policies.put_policy(ops_db, policy=looser, actor=ADA, now=later(20))
    once = await service.approve(ops_db, action_id=action.id, approver=OLGA, now=later(30))
    assert once.state is State.PENDING_APPROVAL
    assert once.policy.version == 1
    fresh = await propose(ops_db, kind=KIND, now=later(40))
    assert fresh.approvals_required == 1
    approved = await service.approve(ops_db, action_id=fresh.id, approver=OLGA, now=later(50))
    assert approved.state is State.APPROVED


async def test_a_kind_and_risk_policy_beats_a_kind_policy(ops_db: Database) -> None:
    await policies.put_policy(ops_db, policy=STRICT, actor=ADA, now=NOW)
    critical = replace(STRICT, id="pricing-critical", risk=Risk.CRITICAL, approvals_required=3)
    await policies.put_policy(ops_db, policy=critical, actor=ADA, now=NOW)
    assert (await propose(ops_db, Risk.CRITICAL, kind=KIND)).policy.id == "pricing-critical"
    assert (await propose(ops_db, Risk.HIGH, kind=KIND)).policy.id == "pricing"


async def test_a_policy_naming_an_unknown_escalation_policy_is_refused(ops_db: Database) -> None:
    dangling = replace(STRICT, escalation_policy_id="nobody-wrote-this")
    with pytest.raises(InvalidArgument, match="no escalation policy 'nobody-wrote-this'"):
        await policies.put_policy(ops_db, policy=dangling, actor=ADA, now=NOW)
