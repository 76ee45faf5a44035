"""Notifications: what an escalation or a reminder sends to a webhook destination, queued in
the same transaction as its cause and delivered at least once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAME = "ops-notifications"
GAVE_UP = "ops.action.notification_failed"


@dataclass(frozen=True)
class Notification:
    id: int
    destination: str  # a webhook's name from TRADEOPS_OPS_WEBHOOKS
    body: dict[str, Any]  # services.ops.domain.escalation.notice
    attempts: int = 0


def given_up(note: Notification, reason: str) -> dict[str, Any]:
    """What the audit log and the timeline keep of a notification never to be sent."""
    return {
        "destination": note.destination,
        "event": note.body.get("event", ""),
        "attempts": note.attempts + 1,
        "reason": reason,
    }
