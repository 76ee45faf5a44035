"""The audit events the ops use cases write to the outbox, and what each one carries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.outbox import record_event
from services.ops.domain import Action
from services.ops.tables import outbox

SOURCE = "ops"
PROPOSED = "ops.action.proposed"
# Also the verb of a refused vote, with outcome "denied" and the reason in the payload.
VOTE_RECORDED = "ops.action.vote_recorded"
APPROVED = "ops.action.approved"
REJECTED = "ops.action.rejected"


async def record(
    session: AsyncSession,
    actor: dict[str, Any],
    verb: str,
    action_id: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    await record_event(
        session,
        outbox,
        source=SOURCE,
        actor=actor,
        action=verb,
        target=f"action/{action_id}",
        payload=payload,
        outcome=outcome,
    )


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
    }


def tally(action: Action) -> dict[str, Any]:
    return {
        "approvals": action.approvals,
        "approvals_required": action.approvals_required,
        "votes": [{"voter": v.voter, "approve": v.approve} for v in action.votes],
    }
