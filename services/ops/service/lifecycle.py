"""Use cases that move an action through its life outside voting: expiry (the timers call it),
cancellation and parameter changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from services.ops.domain import events
from services.ops.domain.actions import Action, State
from services.ops.domain.transition import actor_of, overdue
from services.ops.repository import actions, outbox, timeline, votes
from services.ops.service.refusals import audited
from services.ops.service.transition import load, move

CANCELLERS = frozenset({"ops", "admin"})


async def expire(db: Database, *, action_id: str, now: datetime) -> Action:
    """Expires a pending action past expires_at or an approved one past valid_until; any other
    action comes back unchanged (timers may fire late, or twice)."""
    async with db.transaction() as session:
        action = await load(session, action_id, lock=True)
        reason = overdue(action, now)
        if not reason:
            return action
        return await move(
            session, action, State.EXPIRED, actor=actor_of(None), now=now, reason=reason
        )


async def cancel(
    db: Database, *, action_id: str, actor: Principal, reason: str, now: datetime
) -> Action:
    """Withdraws a pending or approved action; ops, admin or its requester, with a reason."""
    if not reason.strip():
        raise InvalidArgument("a reason is required to cancel an action")
    verb = events.verb_for(State.CANCELLED)
    async with audited(db, actor, verb, action_id, {"reason": reason}), db.transaction() as session:
        action = await load(session, action_id, lock=True)
        if not actor.roles & CANCELLERS and actor.subject != action.requested_by:
            raise PermissionDenied("only ops, admin or the requester can cancel an action")
        return await move(
            session,
            action,
            State.CANCELLED,
            actor=actor_of(actor),
            now=now,
            reason=reason,
            cancel_reason=reason,
        )


async def update_parameters(
    db: Database,
    *,
    action_id: str,
    actor: Principal,
    parameters: dict[str, Any],
    reason: str,
    now: datetime,
) -> Action:
    """New parameters for a pending action: parameters_version+1, every earlier vote voided,
    and the actor their author (so excluded from voting on them, see domain.quorum)."""
    async with (
        audited(db, actor, events.PARAMETERS_UPDATED, action_id, {"reason": reason}),
        db.transaction() as session,
    ):
        before = await load(session, action_id, lock=True)
        if before.state is not State.PENDING_APPROVAL:
            raise Conflict(f"action {action_id} is {before.state}; only pending can change")
        after = before.changed(
            now,
            parameters=parameters,
            parameters_version=before.parameters_version + 1,
            parameters_author=actor.subject,
        )
        await actions.save(session, after)
        await votes.void(session, action_id)
        voided = [v.voter for v in before.current_votes]
        details = {
            "from": before.parameters,
            "to": parameters,
            "parameters_version": after.parameters_version,
            "reason": reason,
            "voided_votes": voided,
        }
        who = actor_of(actor)
        await outbox.record(session, who.audit, events.PARAMETERS_UPDATED, action_id, details)
        text = f"parameters changed to version {after.parameters_version}"
        if voided:
            text += f"; voided the votes of {', '.join(voided)}"
        await timeline.add(
            session,
            action_id=action_id,
            kind="parameters",
            actor=who.name,
            machine=who.machine,
            text=text + (f": {reason}" if reason else ""),
            details=details,
            at=now,
        )
        return await load(session, action_id)
