"""Who may vote now and why not (domain.eligibility), without a database: the reason a person
reads for each refusal, beside the unchanged error the vote answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import chain, combinations, product

import pytest

from runtime.auth import APPROVERS
from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.counting import counting_roles, tally
from services.ops.domain.eligibility import explain, refusal
from services.ops.domain.policy import Policy, Risk, RoleRequirement
from tests.ops.test_quorum import CRITICAL, NOW, action, vote

ROLE_SETS = [
    frozenset(c) for c in chain.from_iterable(combinations(sorted(APPROVERS), n) for n in (1, 2, 3))
]


def voted(start: Action, *votes: Vote) -> Action:
    return replace(start, votes=tuple(votes))


@pytest.mark.parametrize(
    ("start", "voter", "roles", "reason", "may_reject"),
    [
        (action(), "rita", ("ops",), "you requested this action", False),
        (action(), "triage-agent", ("ops",), "you proposed this action", False),
        (action(parameters_author="bob"), "bob", ("ops",), "you edited its parameters", False),
        (
            action(state=State.APPROVED),
            "olga",
            ("ops",),
            "it is no longer pending (approved)",
            False,
        ),
        (
            action(state=State.OUTCOME_UNKNOWN),
            "olga",
            ("ops",),
            "it is no longer pending (outcome unknown)",
            False,
        ),
        (action(), "vic", ("viewer",), "your role (viewer) cannot vote", False),
        (action(), "tom", ("trader", "viewer"), "your roles (viewer, trader) cannot vote", False),
        (action(), "svc:agent", ("service",), "the agent and other services never vote", False),
        (action(Risk.CRITICAL, CRITICAL), "olga", ("ops",), "", True),
        (
            voted(action(Risk.HIGH, Policy(id="p", approvals_required=2)), vote("olga", "ops")),
            "otto",
            ("ops",),
            "needs compliance or admin",
            True,
        ),
        (
            voted(action(Risk.HIGH, Policy(id="p", approvals_required=2)), vote("olga", "ops")),
            "olga",
            ("ops",),
            "you already approved it",
            False,
        ),
        (
            voted(
                action(policy=Policy(id="p", rejections_to_reject=2)),
                vote("olga", "ops", approve=False),
            ),
            "olga",
            ("ops",),
            "you already rejected it",
            False,
        ),
        (action(), "olga", ("ops",), "it is no longer pending (expired)", False),
    ],
)
def test_each_refusal_reads_as_a_reason_beside_the_votes_own_error(
    start: Action, voter: str, roles: tuple[str, ...], reason: str, may_reject: bool
) -> None:
    at = NOW + (timedelta(hours=5) if "expired" in reason else timedelta(0))
    found = explain(start, voter, frozenset(roles), at)
    approve = refusal(start, Vote(voter, frozenset(roles), True, "", at))

    assert (found.reason, found.may_approve, found.may_reject) == (reason, not reason, may_reject)
    assert found.approve_refusal == (approve.message if approve else "")


def test_the_roles_needed_are_those_whose_approval_would_still_count() -> None:
    critical = action(Risk.CRITICAL, CRITICAL)
    ops_in = voted(critical, vote("olga", "ops"))

    assert explain(critical, "olga", frozenset({"ops"}), NOW).roles_needed == (
        "ops",
        "compliance",
        "admin",
    )
    assert explain(ops_in, "otto", frozenset({"ops"}), NOW).roles_needed == ("compliance", "admin")
    assert explain(action(state=State.APPROVED), "o", frozenset({"ops"}), NOW).roles_needed == ()


def test_a_slot_only_one_role_fills_is_named_as_that_role() -> None:
    ops_two = Policy(id="p", approvals_required=2, role_requirements=(RoleRequirement("ops", 2),))
    found = explain(
        voted(action(policy=ops_two), vote("olga", "ops")), "ada", frozenset({"admin"}), NOW
    )

    assert (found.may_approve, found.reason, found.roles_needed) == (False, "needs ops", ("ops",))
    assert "ada's approval would not count" in found.approve_refusal
    assert "1 more approval needed, from: ops (1)" in found.approve_refusal


POLICIES = [
    Policy(
        id="p", approvals_required=m, role_requirements=tuple(RoleRequirement(r, n) for r, n in req)
    )
    for m, req in product(
        (1, 2, 3),
        (
            (),
            (("compliance", 1),),
            (("ops", 1),),
            (("admin", 1),),
            (("compliance", 1), ("ops", 1)),
            (("ops", 2),),
        ),
    )
    if sum(n for _, n in req) <= m
]


def test_an_approval_counts_exactly_when_the_voter_holds_one_of_the_counting_roles() -> None:
    """counting_roles is per role; whether someone's approval counts is a fact about their whole
    role set. They agree on every policy here, risk, and up to two earlier approvals."""
    checked = 0
    for policy, risk, before in product(POLICIES, (Risk.LOW, Risk.HIGH), _histories()):
        start = voted(action(risk, policy), *before)
        missing = tally(start).approvals_missing
        if missing == 0:
            continue
        wanted = counting_roles(start)
        for roles in ROLE_SETS:
            approved = voted(start, *before, Vote("x", roles, True, "", NOW))
            assert (tally(approved).approvals_missing < missing) == bool(roles & wanted), (
                policy,
                risk,
                before,
                roles,
            )
            checked += 1
    assert checked > 1000


def _histories() -> list[tuple[Vote, ...]]:
    one = [(Vote("a", roles, True, "", NOW),) for roles in ROLE_SETS]
    two = [(a[0], Vote("b", roles, True, "", NOW)) for a in one for roles in ROLE_SETS]
    return [(), *one, *two]
