"""The checks' own rules, over sources held in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.agent.compliance.domain.checks import CHECKS, Limits
from services.agent.compliance.domain.checks.approvals import quorum_problems, self_approval
from services.agent.compliance.domain.checks.escalation import escalation_deadlines
from services.agent.compliance.domain.checks.integrity import export_verification
from services.agent.compliance.domain.views import (
    ActionView,
    EscalationView,
    ExportView,
    PolicyView,
    VoteView,
)
from tests.agent.compliance.fakes import FakeSources

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = PolicyView("desk", 3, 2, (("compliance", 1), ("ops", 1)), False, "page-desk")
LIMITS = Limits()


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def vote(voter: str, *roles: str, version: int = 1) -> VoteView:
    return VoteView(voter, frozenset(roles), True, ago(minutes=5), version, False)


def action(state: str = "PENDING_APPROVAL", *votes: VoteView, **extra: object) -> ActionView:
    made = ActionView(
        id="a1",
        kind="restart_fix_session",
        risk="LOW",
        state=state,
        requested_by="rita",
        proposed_by="triage-agent",
        policy=POLICY,
        votes=votes,
        parameters_version=1,
        compliance_relevant=False,
        created_at=ago(minutes=30),
        expires_at=NOW + timedelta(hours=3),
    )
    return replace(made, **extra)  # type: ignore[arg-type]


def export(**extra: object) -> ExportView:
    made = ExportView("e1", "audit_extract", "DELIVERED", ago(days=3), ago(days=2), None, "sftp")
    return replace(made, **extra)  # type: ignore[arg-type]


def test_every_check_has_an_id_a_version_and_a_description() -> None:
    assert len({c.id for c in CHECKS}) == len(CHECKS) == 6
    assert all(c.version >= 1 and len(c.description) > 20 for c in CHECKS)


def test_one_approver_holding_two_roles_fills_only_one_role_requirement() -> None:
    carol = vote("carol", "compliance", "ops")
    with_a_trader = action("EXECUTED", carol, vote("tom", "trader"))

    assert quorum_problems(with_a_trader) == [
        "1 valid approval(s), policy desk v3 needs 2",
        "role requirement(s) not met: ops",
    ]
    # A second compliance approver lets carol's vote move to the ops requirement.
    assert quorum_problems(action("EXECUTED", carol, vote("cid", "compliance"))) == []


def test_votes_on_earlier_parameters_do_not_count_towards_quorum() -> None:
    stale = action("APPROVED", vote("carol", "compliance", version=1), vote("olga", "ops"))

    problems = quorum_problems(replace(stale, parameters_version=2))

    assert problems[0] == "0 valid approval(s), policy desk v3 needs 2"


def edited_by_bob(*votes: VoteView) -> ActionView:
    """Approved on parameters version 2, which bob wrote (its timeline says so)."""
    return action("APPROVED", *votes, parameters_version=2, parameters_authors=((2, "bob"),))


def test_an_approval_by_the_author_of_the_parameters_it_approved_is_invalid() -> None:
    bob, carl = vote("bob", "ops", version=2), vote("carl", "compliance", version=2)

    assert quorum_problems(edited_by_bob(bob, carl)) == [
        "1 valid approval(s), policy desk v3 needs 2",
        "role requirement(s) not met: ops",
    ]
    # Bob's vote on the requester's version 1 is no breach of this rule (and is voided anyway).
    assert quorum_problems(edited_by_bob(vote("bob", "ops"), carl))[0].startswith("1 valid")


async def test_the_self_approval_check_flags_approving_parameters_one_wrote() -> None:
    sources = FakeSources(action_list=[edited_by_bob(vote("bob", "ops", version=2))])

    outcome = await self_approval(sources, LIMITS, NOW)

    assert outcome.status == "fail"
    [finding] = outcome.findings
    assert finding.ref == "action/a1"
    assert finding.reason == "bob approved parameters version 2, which they wrote"
    assert finding.facts["parameters_version"] == 2


async def test_a_pending_action_past_its_expiry_is_reported() -> None:
    sources = FakeSources([action(expires_at=ago(minutes=10))])

    outcome = await escalation_deadlines(sources, LIMITS, NOW)

    assert outcome.status == "fail"
    assert outcome.findings[0].reason.startswith("still pending after its expiry")


async def test_an_unacknowledged_action_past_its_first_escalation_level_is_reported() -> None:
    policy = EscalationView("page-desk", 1, (600, 1200), 0)
    sources = FakeSources([action()], {"page-desk": policy})

    outcome = await escalation_deadlines(sources, LIMITS, NOW)

    assert [f.reason.split(" (")[0] for f in outcome.findings] == ["escalation level 1 overdue"]
    assert outcome.findings[0].facts["due"] == ago(minutes=20).isoformat()


async def test_an_acknowledged_or_recently_escalated_action_is_not_overdue() -> None:
    policy = EscalationView("page-desk", 1, (600, 3600), 0)
    acknowledged = action(acknowledged_at=ago(minutes=25))
    escalated = replace(action(), id="a2", escalation_level=1)
    sources = FakeSources(
        [acknowledged, escalated], {"page-desk": policy}, {"a2": [ago(minutes=5)]}
    )

    outcome = await escalation_deadlines(sources, LIMITS, NOW)

    assert outcome.status == "pass"
    assert outcome.examined == 2


async def test_an_export_delivered_and_never_verified_within_the_deadline_is_reported() -> None:
    verified = export(id="e2", state="VERIFIED", verified_at=ago(days=1))
    fresh = export(id="e3", delivered_at=ago(hours=2))
    sources = FakeSources(export_list=[export(), verified, fresh])

    outcome = await export_verification(sources, LIMITS, NOW)

    assert [f.ref for f in outcome.findings] == ["export/e1"]
    assert outcome.examined == 3


async def test_an_export_redelivered_after_its_verification_must_be_verified_again() -> None:
    redelivered = export(verified_at=ago(days=2, hours=1), delivered_at=ago(days=2))

    outcome = await export_verification(FakeSources(export_list=[redelivered]), LIMITS, NOW)

    assert outcome.status == "fail"
