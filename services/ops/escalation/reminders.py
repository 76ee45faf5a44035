"""The reminder before a pending action expires, and what escalations and reminders record
and send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from runtime.db import Database
from runtime.outbox import automation
from services.ops import events, notifications, timeline, transition
from services.ops.domain import Action, State
from services.ops.escalation import policies
from services.ops.escalation.policies import EscalationPolicy, Level

NAME = "ops-escalation"
ACTOR = automation(NAME, "1")
ESCALATED = "ops.action.escalated"
REMINDED = "ops.action.reminded"


async def remind(db: Database, timer: Row[Any], now: datetime) -> Action | None:
    """The "remind" timer's effect: tells the people on a still pending action it will expire."""
    async with db.transaction() as session:
        action = await transition.load(session, timer.action_id, lock=True)
        policy = await policies.load(session, timer.payload["policy"], timer.payload["version"])
        if action.state is not State.PENDING_APPROVAL or policy is None:
            return None
        level = policy.level(max(1, action.escalation_level))
        expires = action.expires_at.isoformat() if action.expires_at else ""
        text = f"expires at {expires} unless decided"
        details = {"expires_at": expires, "notify": list(level.notify)}
        await events.record(session, ACTOR, REMINDED, action.id, details)
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


def notice(action: Action, event: str, reason: str) -> dict[str, Any]:
    """The plain notification body; webhooks render it for Slack, Teams or as JSON."""
    what = f"escalated to level {action.escalation_level}" if event == ESCALATED else "reminder"
    owner = action.assignee or action.assignee_team or "nobody"
    return {
        "event": event,
        "action_id": action.id,
        "kind": action.kind,
        "risk": action.risk.value,
        "state": action.state.value,
        "escalation_level": action.escalation_level,
        "assignee": action.assignee,
        "assignee_team": action.assignee_team,
        "expires_at": action.expires_at.isoformat() if action.expires_at else "",
        "reason": reason,
        "text": f"{action.kind} ({action.risk.value} risk) {what}: {reason}; assigned to {owner}",
    }


def escalation_details(
    policy: EscalationPolicy, level: Level, number: int, reason: str
) -> dict[str, Any]:
    return {
        "level": number,
        "reason": reason,
        "policy": {"id": policy.id, "version": policy.version},
        "notify": list(level.notify),
        "assign_to": level.assign_to,
        "assign_team": level.assign_team,
    }
