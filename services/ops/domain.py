"""Actions and votes: the approval state machine and the rules a vote must pass.

A vote is refused with PermissionDenied when the voter is a service or the agent, lacks an
approver role, or requested or proposed the action (separation of duties); with Conflict when the
action is no longer pending or the voter already voted. One rejection rejects. Approval needs
`approvals_required` distinct approvals and, for HIGH and CRITICAL risk, at least one of them
from compliance or admin."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from runtime.auth import APPROVERS, COMPLIANCE, SERVICE
from runtime.errors import Conflict, InvalidArgument, PermissionDenied


class State(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Risk(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


TRANSITIONS = {State.PENDING_APPROVAL: frozenset({State.APPROVED, State.REJECTED})}
SENSITIVE = frozenset({Risk.HIGH, Risk.CRITICAL})


def approvals_required_for(risk: Risk) -> int:
    return 2 if risk in SENSITIVE else 1


@dataclass(frozen=True)
class Vote:
    voter: str
    roles: frozenset[str]
    approve: bool
    comment: str
    at: datetime


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
    approvals_required: int = 0
    votes: tuple[Vote, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("kind", "requested_by", "source_ref"):
            if not getattr(self, name).strip():
                raise InvalidArgument(f"{name} is required")
        if not self.approvals_required:
            object.__setattr__(self, "approvals_required", approvals_required_for(self.risk))

    @property
    def approvals(self) -> int:
        return sum(1 for vote in self.votes if vote.approve)

    def moved_to(self, state: State, at: datetime) -> Action:
        if state not in TRANSITIONS.get(self.state, frozenset()):
            raise Conflict(f"action {self.id} cannot move from {self.state} to {state}")
        return replace(self, state=state, updated_at=at)

    def with_vote(self, vote: Vote) -> Action:
        """The action after `vote`, with its new state; raises when the vote is refused."""
        check_voter(self, vote)
        if self.state is not State.PENDING_APPROVAL:
            raise Conflict(f"action {self.id} is {self.state}, not pending approval")
        if any(v.voter == vote.voter for v in self.votes):
            raise Conflict(f"{vote.voter} already voted on action {self.id}")
        voted = replace(self, votes=(*self.votes, vote), updated_at=vote.at)
        if not vote.approve:
            return voted.moved_to(State.REJECTED, vote.at)
        if voted.quorum_reached():
            return voted.moved_to(State.APPROVED, vote.at)
        return voted

    def quorum_reached(self) -> bool:
        approving = [vote for vote in self.votes if vote.approve]
        if len(approving) < self.approvals_required:
            return False
        return self.risk not in SENSITIVE or any(v.roles & COMPLIANCE for v in approving)


def check_voter(action: Action, vote: Vote) -> None:
    verb = "approve" if vote.approve else "reject"
    if SERVICE in vote.roles:
        raise PermissionDenied("the agent and other services can never vote on an action")
    if not vote.roles & APPROVERS:
        raise PermissionDenied(f"{vote.voter} lacks an approver role among {sorted(APPROVERS)}")
    if vote.voter == action.requested_by:
        raise PermissionDenied(f"a requester cannot {verb} their own action")
    if vote.voter == action.proposed_by.get("subject"):
        raise PermissionDenied(f"a proposer cannot {verb} their own proposal")
