"""The "remind" timer's effect: the reminder before a pending action expires."""

from __future__ import annotations

from datetime import datetime

from runtime.db import Database
from services.ops.domain.actions import Action, State
from services.ops.domain.escalation import ACTOR, NAME, REMINDED, notice
from services.ops.domain.timers import Timer
from services.ops.repository import escalation_policies, notifications, outbox, timeline
from services.ops.service import transition


async def remind(db: Database, timer: Timer, now: datetime) -> Action | None:
    """Tells the people on a still pending action it will expire."""
    async with db.transaction() as session:
        action = await transition.load(session, timer.action_id, lock=True)
        policy = await escalation_policies.load(
            session, timer.payload["policy"], timer.payload["version"]
        )
        if action.state is not State.PENDING_APPROVAL or policy is None:
            return None
        level = policy.level(max(1, action.escalation_level))
        expires = action.expires_at.isoformat() if action.expires_at else ""
        text = f"expires at {expires} unless decided"
        details = {"expires_at": expires, "notify": list(level.notify)}
        await outbox.record(session, ACTOR, REMINDED, action.id, details)
        await timeline.add(
            session,
            action_id=action.id,
            kind="reminder",
            actor=NAME,
            machine=True,
            text=f"Reminder sent: {text}",
            details=details,
            at=now,
        )
        await notifications.enqueue(session, level.notify, notice(action, REMINDED, text), now)
        return action
