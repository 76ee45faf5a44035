"""Where a seeded action can stand, played through the ops domain; import-only (`make bench`
skips bench/_*.py), used by _seed_actions.py.

Per kind and risk, the stored policy that governs it (domain.policy.select) and, per state,
the votes that got it there, each one accepted by domain.quorum.decide, which also says the
state they reached (expired, cancelled and executing-on states are set after that, as the
timers, a cancellation or an executor would). The voters are placeholders (@ops0, @compliance0,
...) that the stamping replaces with people's names, never the requester's: the domain looks at
roles and at who requested, proposed and last edited, nothing else about a name."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

from runtime.errors import Conflict, PermissionDenied
from runtime.outbox import automation
from services.ops.domain.actions import Action, Risk, State, Vote
from services.ops.domain.policy import Policy, select
from services.ops.domain.quorum import decide

KINDS = ("failover_market_data_feed", "restart_service", "throttle_order_flow",
         "reconnect_fix_session", "pause_strategy", "rerun_reconciliation", "refresh_prices",
         "disable_strategy_kill_switch")  # fmt: skip
RISKS = ((Risk.LOW, 55), (Risk.MEDIUM, 25), (Risk.HIGH, 15), (Risk.CRITICAL, 5))
AGENT = automation("triage-agent", "1.4.0")
# Votes tried in turn, as (role, approve): the first that reaches the state wins.
TO_APPROVE = ((("ops", True),), (("ops", True), ("compliance", True)),
              (("compliance", True), ("ops", True)), (("ops", True), ("ops", True)))  # fmt: skip
TO_REJECT = ((("ops", False),), (("ops", False), ("compliance", False)))
# Where a pending action may stand: each one the domain accepts without deciding is used.
WAITING = ((), (("ops", True),), (("compliance", True),), (("ops", False),))
CLAIMED = frozenset({State.EXECUTING, State.EXECUTED, State.FAILED, State.OUTCOME_UNKNOWN})
VOTE_GAP_S = 30  # between a seeded action's votes


@dataclass(frozen=True)
class Pattern:
    number: int
    action: Action  # as the service would hold it, voters and editor still placeholders
    ttl: timedelta
    validity: timedelta
    # (placeholder, role) of every name to give: the voters, the editor, a claimant by hand.
    placeholders: tuple[tuple[str, str], ...]
    # (placeholder, roles as stored, approve, seconds after the proposal, version, voided)
    votes: tuple[tuple[str, Jsonb, bool, int, int, bool], ...]

    @property
    def edited(self) -> bool:
        return self.action.parameters_version > 1


Found = dict[tuple[str, Risk, State], list[Pattern]]


def patterns(current: list[Policy]) -> Found:
    found: Found = {}
    for kind in KINDS:
        for risk, _ in RISKS:
            start = _template(kind, risk, select(current, kind, risk))
            for state, actions in _outcomes(start).items():
                made = found.setdefault((kind, risk, state), [])
                for action in actions:
                    made.append(_pattern(sum(len(p) for p in found.values()), action))
    return found


def play(start: Action, votes: tuple[tuple[str, bool], ...]) -> Action | None:
    """The action after these votes, or None when the domain refuses one of them."""
    current, seen = start, {"ops": 0, "compliance": 0, "admin": 0}
    for at, (role, approve) in enumerate(votes, start=1):
        name = f"@{role}{seen[role]}"
        seen[role] += 1
        vote = Vote(name, frozenset({role}), approve, "", _t(at * VOTE_GAP_S))
        try:
            current, reached = decide(current, vote)
        except (PermissionDenied, Conflict):
            return None
        if reached is not None:
            current = current.moved_to(reached, vote.at)
    return current


def _outcomes(start: Action) -> dict[State, list[Action]]:
    approved = _first(start, TO_APPROVE, State.APPROVED)
    rejected = _first(start, TO_REJECT, State.REJECTED)
    waiting = [a for v in WAITING if (a := play(start, v)) and a.state is State.PENDING_APPROVAL]
    last = waiting[-1]
    voided = tuple(replace(v, voided=True) for v in last.votes)
    edited = replace(last, parameters_version=2, parameters_author="@editor", votes=voided)
    found = {
        State.PENDING_APPROVAL: [*waiting, edited],
        State.APPROVED: [approved],
        State.REJECTED: [rejected],
        State.EXPIRED: [replace(a, state=State.EXPIRED) for a in waiting],
        State.CANCELLED: [replace(a, state=State.CANCELLED, cancel_reason="off") for a in waiting],
    }
    for state in CLAIMED:
        executor, claimant = ("by hand", "@claimant") if state is State.EXECUTING else _BY_AGENT
        ran = replace(approved, state=state, executor=executor, claimed_by=claimant)
        found[state] = [replace(ran, execution_detail=f"bench: {state.lower()}")]
    return found


_BY_AGENT = ("webhook:desk-oms", "service:agent")


def _first(start: Action, tries: tuple[tuple[tuple[str, bool], ...], ...], state: State) -> Action:
    return next(a for v in tries if (a := play(start, v)) and a.state is state)


def _pattern(number: int, action: Action) -> Pattern:
    policy = action.policy
    voters = sorted({v.voter for v in action.votes})
    extra = [p for p in (action.parameters_author, action.claimed_by) if p in _OPS_NAMED]
    placeholders = tuple((p, role_of(p)) for p in [*voters, *extra])
    votes = tuple(
        (v.voter, Jsonb(sorted(v.roles)), v.approve, int((v.at - _t(0)).total_seconds()),
         v.parameters_version, v.voided)
        for v in action.votes
    )  # fmt: skip
    return Pattern(number, action, policy.pending_ttl, policy.validity, placeholders, votes)


# Placeholders named from the ops people: whoever edited, whoever executes by hand.
_OPS_NAMED = frozenset({"@editor", "@claimant"})


def _template(kind: str, risk: Risk, policy: Policy) -> Action:
    return Action(
        id="00000000-0000-4000-8000-000000000000",
        kind=kind,
        parameters={"feed": "XNAS-ITCH", "to": "secondary", "desk": "equities"},
        risk=risk,
        rationale="bench: seeded to measure the console's pages",
        requested_by="@requester",
        parameters_author="@requester",
        proposed_by=AGENT,
        source_ref="bench/template",
        created_at=_t(0),
        updated_at=_t(0),
        policy=policy,
    )


def _t(seconds: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def role_of(placeholder: str) -> str:
    """@ops0 -> ops; the editor and a claimant by hand are ops people."""
    role = placeholder.strip("@0123456789")
    return "ops" if role in ("editor", "claimant") else role
