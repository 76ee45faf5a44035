"""Escalation: what happens when nobody acknowledges or decides a pending action in time.

Level i fires `after_s` after level i-1 (level 1: after the proposal) unless the action was
decided, or, for level 1, acknowledged. Firing notifies the level's destinations, reassigns when
the level names someone, bumps the action's escalation_level, and schedules the next level; after
the last level it repeats up to `repeat_limit` times. A reminder goes out
`remind_before_expiry_s` before a pending action expires.

Escalation policies are versioned like approval policies: a change is version N+1, and an
action's timers carry the version they were planned under, so later edits never apply to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.errors import InvalidArgument
from runtime.outbox import automation
from services.ops.domain.actions import Action

NAME = "ops-escalation"
ACTOR = automation(NAME, "1")
ESCALATED = "ops.action.escalated"
REMINDED = "ops.action.reminded"
CHANGED = "ops.escalation_policy.changed"
MAX_REPEAT = 100


@dataclass(frozen=True)
class Level:
    after_s: int
    notify: tuple[str, ...] = ()
    assign_to: str = ""
    assign_team: str = ""


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    levels: tuple[Level, ...] = field(default_factory=tuple)
    repeat_limit: int = 0
    remind_before_expiry_s: int = 0
    version: int = 0
    changed_by: str = ""
    changed_at: datetime | None = None

    @property
    def last_level(self) -> int:
        """The highest escalation_level an action can reach (the repeats included)."""
        return len(self.levels) + self.repeat_limit

    def level(self, number: int) -> Level:
        """Level `number` (1-based); numbers past the last level are its repeats."""
        return self.levels[min(number, len(self.levels)) - 1]


def validate(policy: EscalationPolicy) -> None:
    problems = [
        (not policy.id.strip(), "id is required"),
        (not policy.levels, "an escalation policy needs at least one level"),
        (any(lv.after_s <= 0 for lv in policy.levels), "every level's after_s must be positive"),
        (not 0 <= policy.repeat_limit <= MAX_REPEAT, f"repeat_limit must be 0..{MAX_REPEAT}"),
        (policy.remind_before_expiry_s < 0, "remind_before_expiry_s must not be negative"),
        (any(not n.strip() for lv in policy.levels for n in lv.notify), "empty notify name"),
    ]
    for failed, message in problems:
        if failed:
            raise InvalidArgument(message)


def notice(action: Action, event: str, reason: str) -> dict[str, Any]:
    """The plain notification body; clients.webhooks renders it for Slack, Teams or as JSON."""
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
