"""The one way an action changes state outside a vote: load it locked, plan the change
(services.ops.domain.transition), then write the action, its audit event, its timeline entry
and its durable timers inside the caller's transaction, as the vote does
(services.ops.repository.changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.errors import NotFound
from services.ops.domain.actions import Action, State
from services.ops.domain.transition import Actor, check_id, plan
from services.ops.repository import actions, changes


async def load(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action:
    check_id(action_id)
    action = await actions.get(session, action_id, lock=lock)
    if action is None:
        raise NotFound(f"no action {action_id}")
    return action


async def move(
    session: AsyncSession,
    before: Action,
    state: State,
    *,
    actor: Actor,
    now: datetime,
    reason: str,
    details: dict[str, Any] | None = None,
    **changed: Any,
) -> Action:
    """Moves `before` (whose row the caller locked) to `state`; Conflict when illegal."""
    moved = plan(before, state, actor=actor, now=now, reason=reason, details=details, **changed)
    await changes.apply(session, changes.of_move(moved))
    return moved.after
