"""Approval metrics over the actions proposed in [since, until): state counts, MTTA, time to
decision, approval latency, rejection rate per policy, approver stats and the pending backlog.

An action "was approved" when it has a valid_until (set at quorum, whatever happened next) and
"was decided" when it has a decided_at (set at quorum or at rejection)."""

from __future__ import annotations

from dataclasses import dataclass, field

BUCKETS = (0, 300, 3600, 14400, 86400)  # the backlog's age buckets, from this many seconds
HUMAN_TOUCHES = ("acknowledgement", "assignment", "comment", "vote")  # what MTTA waits for


@dataclass(frozen=True)
class ApproverStats:
    subject: str
    votes: int
    approval_rate: float
    median_decision_s: float


@dataclass(frozen=True)
class Metrics:
    counts_by_state: dict[str, int] = field(default_factory=dict)
    mtta_s: float = 0.0
    time_to_decision_s: float = 0.0
    approval_latency_s: float = 0.0
    rejection_rate_by_policy: dict[str, float] = field(default_factory=dict)
    approvers: tuple[ApproverStats, ...] = ()
    backlog: tuple[tuple[int, int], ...] = ()  # (from_s, count)
