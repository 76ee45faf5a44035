"""The audit events of ops (their verbs) and what each one carries; repository.outbox writes
them to the outbox."""

from __future__ import annotations

from typing import Any

from services.ops.domain.actions import Action, State
from services.ops.domain.counting import tally as quorum_tally
from services.ops.domain.policy import Policy, snapshot

SOURCE = "ops"
PROPOSED = "ops.action.proposed"
# Also the verb of a refused vote, with outcome "denied" and the reason in the payload.
VOTE_RECORDED = "ops.action.vote_recorded"
APPROVED = "ops.action.approved"
REJECTED = "ops.action.rejected"
PARAMETERS_UPDATED = "ops.action.parameters_updated"
ASSIGNED = "ops.action.assigned"
ACKNOWLEDGED = "ops.action.acknowledged"
COMMENTED = "ops.action.commented"
EXECUTION_RESULT = "ops.action.execution_result"
POLICY_CHANGED = "ops.policy.changed"
# Every refusal of a use case other than a vote, with outcome "denied".
REFUSED = "ops.action.refused"

STATE_VERBS = {
    State.APPROVED: APPROVED,
    State.REJECTED: REJECTED,
    State.EXPIRED: "ops.action.expired",
    State.CANCELLED: "ops.action.cancelled",
    State.EXECUTING: "ops.action.execution_started",
    State.EXECUTED: "ops.action.executed",
    State.FAILED: "ops.action.execution_failed",
    State.OUTCOME_UNKNOWN: "ops.action.outcome_unknown",
}


def verb_for(state: State) -> str:
    return STATE_VERBS[state]


def summary(action: Action) -> dict[str, Any]:
    return {
        "kind": action.kind,
        "parameters": action.parameters,
        "risk": action.risk.value,
        "requested_by": action.requested_by,
        "source_ref": action.source_ref,
        "incident_id": action.incident_id,
        "decision_id": action.decision_id,
        "approvals_required": action.approvals_required,
        "policy": {"id": action.policy.id, "version": action.policy.version},
        "expires_at": action.expires_at.isoformat() if action.expires_at else "",
    }


def tally(action: Action) -> dict[str, Any]:
    counted = quorum_tally(action)
    return {
        "approvals": counted.approvals,
        "rejections": counted.rejections,
        "approvals_required": action.approvals_required,
        "parameters_version": action.parameters_version,
        "votes": [
            {"voter": v.voter, "approve": v.approve, "parameters_version": v.parameters_version}
            for v in action.current_votes
        ],
    }


def policy_change(policy: Policy, previous: Policy | None) -> dict[str, Any]:
    """What a PutPolicy changed: the new version and each field that differs from the last."""
    new, old = snapshot(policy), snapshot(previous) if previous else {}
    ignored = {"version", "changed_by", "changed_at", "change_reason"}
    changed = {
        name: {"from": old.get(name), "to": value}
        for name, value in new.items()
        if name not in ignored and old.get(name) != value
    }
    return {
        "policy": new,
        "previous_version": previous.version if previous else 0,
        "changed": changed,
    }
