"""What the checks see of other services: plain copies of the contract messages they read
(ops actions with votes and policy snapshot, escalation policies, exports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Ops states from which an action has passed approval (it may be, or has been, executed).
PAST_APPROVAL = frozenset({"APPROVED", "EXECUTING", "EXECUTED", "FAILED", "OUTCOME_UNKNOWN"})
SENSITIVE_RISKS = frozenset({"HIGH", "CRITICAL"})


@dataclass(frozen=True)
class VoteView:
    voter: str
    roles: frozenset[str]
    approve: bool
    at: datetime
    parameters_version: int
    voided: bool


@dataclass(frozen=True)
class PolicyView:
    id: str
    version: int
    approvals_required: int
    role_requirements: tuple[tuple[str, int], ...]
    compliance_relevant: bool
    escalation_policy_id: str


@dataclass(frozen=True)
class ActionView:
    id: str
    kind: str
    risk: str  # "LOW", "MEDIUM", "HIGH", "CRITICAL" or "UNSPECIFIED"
    state: str  # the ops ActionState name without its prefix, e.g. "EXECUTED"
    requested_by: str
    proposed_by: str
    policy: PolicyView
    votes: tuple[VoteView, ...]
    parameters_version: int
    compliance_relevant: bool
    created_at: datetime
    expires_at: datetime | None = None
    escalation_level: int = 0
    acknowledged_at: datetime | None = None
    # (parameters version, who wrote it) for each edit, from the action's timeline: its author
    # may not approve that version, exactly like the requester (who wrote version 1).
    parameters_authors: tuple[tuple[int, str], ...] = ()

    def wrote(self, voter: str, parameters_version: int) -> bool:
        return (parameters_version, voter) in self.parameters_authors

    @property
    def sensitive(self) -> bool:
        return (
            self.risk in SENSITIVE_RISKS
            or self.compliance_relevant
            or (self.policy.compliance_relevant)
        )

    @property
    def counted_votes(self) -> tuple[VoteView, ...]:
        """Votes on the current parameters; earlier ones were voided by a parameter change."""
        return tuple(
            v
            for v in self.votes
            if not v.voided and v.parameters_version == self.parameters_version
        )


@dataclass(frozen=True)
class EscalationView:
    id: str
    version: int
    level_after_s: tuple[int, ...]
    repeat_limit: int

    def after_s(self, level: int) -> int:
        """Delay of level `level` (1-based); levels past the last are its repeats."""
        return self.level_after_s[min(level, len(self.level_after_s)) - 1]


@dataclass(frozen=True)
class ExportView:
    id: str
    kind: str
    state: str  # the ExportState name without its prefix, e.g. "DELIVERED"
    created_at: datetime
    delivered_at: datetime | None
    verified_at: datetime | None
    destination: str


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int
    reason: str
