"""Actions, votes and timeline entries, and the state machine an action moves through.

PENDING_APPROVAL -> APPROVED | REJECTED | EXPIRED | CANCELLED
APPROVED         -> EXECUTING | EXPIRED | CANCELLED
EXECUTING        -> EXECUTED | FAILED | OUTCOME_UNKNOWN
OUTCOME_UNKNOWN  -> EXECUTED | FAILED   (a person checked the desk system)
Any other move is a Conflict naming both states. Who may vote, and when the votes decide, is in
domain.quorum; the approval policy an action carries is in domain.policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from runtime.errors import Conflict, InvalidArgument
from services.ops.domain.policy import DEFAULT_POLICY, Policy, Risk

Clock = Callable[[], datetime]

__all__ = ["Action", "Clock", "Filters", "Risk", "State", "TimelineEntry", "Vote"]


class State(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    EXECUTING = "EXECUTING"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING_APPROVAL: frozenset(
        {State.APPROVED, State.REJECTED, State.EXPIRED, State.CANCELLED}
    ),
    State.APPROVED: frozenset({State.EXECUTING, State.EXPIRED, State.CANCELLED}),
    State.EXECUTING: frozenset({State.EXECUTED, State.FAILED, State.OUTCOME_UNKNOWN}),
    State.OUTCOME_UNKNOWN: frozenset({State.EXECUTED, State.FAILED}),
}
# No way out: timers and escalation stop here.
TERMINAL = frozenset({State.REJECTED, State.EXPIRED, State.CANCELLED, State.EXECUTED, State.FAILED})
# Kinds that need a compliance or admin approval whatever their risk or policy says.
COMPLIANCE_KINDS = frozenset({"disable_strategy_kill_switch", "flatten_position"})


@dataclass(frozen=True)
class Vote:
    voter: str
    roles: frozenset[str]
    approve: bool
    comment: str
    at: datetime
    parameters_version: int = 1
    voided: bool = False


@dataclass(frozen=True)
class Action:
    id: str
    kind: str
    parameters: dict[str, Any]
    risk: Risk
    rationale: str
    requested_by: str
    proposed_by: dict[str, Any]
    source_ref: str
    created_at: datetime
    updated_at: datetime
    incident_id: str = ""
    decision_id: str = ""
    state: State = State.PENDING_APPROVAL
    votes: tuple[Vote, ...] = field(default_factory=tuple)
    # The approval policy as it was at proposal; later versions never apply.
    policy: Policy = DEFAULT_POLICY
    parameters_version: int = 1
    # Who wrote the current parameters version (the requester for the original ones): they may
    # not vote on it, or one person could edit and approve alone. "" when unknown (older rows).
    parameters_author: str = ""
    expires_at: datetime | None = None
    valid_until: datetime | None = None
    decided_at: datetime | None = None
    assignee: str = ""
    assignee_team: str = ""
    escalation_level: int = 0
    acknowledged_at: datetime | None = None
    executor: str = ""
    # Who claimed it for execution (domain.claims.claimant_of): only they record its result.
    claimed_by: str = ""
    execution_detail: str = ""
    cancel_reason: str = ""

    def __post_init__(self) -> None:
        for name in ("kind", "requested_by", "source_ref"):
            if not getattr(self, name).strip():
                raise InvalidArgument(f"{name} is required")
        if self.expires_at is None:
            object.__setattr__(self, "expires_at", self.created_at + self.policy.pending_ttl)

    @property
    def proposer(self) -> str:
        """Whose namespace the source_ref is in: the recorded proposer, kind first, so a person
        whose subject equals an agent's name still cannot take the agent's references."""
        return f"{self.proposed_by.get('kind', '')}:{self.proposed_by.get('subject', '')}"

    @property
    def approvals_required(self) -> int:
        return self.policy.approvals_required

    @property
    def compliance_relevant(self) -> bool:
        return self.policy.compliance_relevant or self.kind in COMPLIANCE_KINDS

    @property
    def current_votes(self) -> tuple[Vote, ...]:
        """The votes that count: cast on the current parameters and not voided."""
        return tuple(
            v
            for v in self.votes
            if not v.voided and v.parameters_version == self.parameters_version
        )

    @property
    def approvals(self) -> int:
        return sum(1 for vote in self.current_votes if vote.approve)

    @property
    def rejections(self) -> int:
        return sum(1 for vote in self.current_votes if not vote.approve)

    def moved_to(self, state: State, at: datetime, **changes: Any) -> Action:
        if state not in TRANSITIONS.get(self.state, frozenset()):
            raise Conflict(f"action {self.id} cannot move from {self.state} to {state}")
        return replace(self, state=state, updated_at=at, **changes)

    def changed(self, at: datetime, **changes: Any) -> Action:
        return replace(self, updated_at=at, **changes)


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    action_id: str
    at: datetime
    kind: str
    actor: str
    machine: bool
    text: str
    details: dict[str, Any]


class Order(StrEnum):
    """How ListActions orders actions; both page by keyset (repository.listing)."""

    NEWEST = "NEWEST"  # created_at descending, then id descending
    DEADLINE = "DEADLINE"  # expires_at ascending, riskiest first, then id: pending actions only


@dataclass(frozen=True)
class Awaiting:
    """Only the actions `voter`, holding `roles`, may approve at `at`: the ones ExplainVote
    would show them an enabled approve button for (domain.eligibility)."""

    voter: str
    roles: frozenset[str]
    at: datetime


@dataclass(frozen=True)
class Filters:
    """What ListActions narrows the actions to, and in which order; empty fields do not
    filter."""

    state: State | None = None
    kind: str = ""
    risk: Risk | None = None
    assignee: str = ""
    awaiting: Awaiting | None = None
    order: Order = Order.NEWEST

    def __post_init__(self) -> None:
        pending_only = self.awaiting is not None or self.state is State.PENDING_APPROVAL
        if self.order is Order.DEADLINE and not pending_only:
            raise InvalidArgument(
                "order DEADLINE lists pending actions: ask for awaiting_me or state"
                " PENDING_APPROVAL with it"
            )
