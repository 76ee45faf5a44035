"""Durable timers as the use cases see them: what is due, for which action, and how often it
was tried. Kinds: "expire" and "validity_end" (the action expires), "escalate" (the next
escalation level), "remind" (a reminder before a pending action expires)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = frozenset({"expire", "escalate", "remind", "validity_end"})


@dataclass(frozen=True)
class Timer:
    id: int
    action_id: str
    kind: str
    due_at: datetime
    attempts: int = 0
    # "escalate" and "remind": {"policy", "version"} of the escalation policy, "level" for escalate.
    payload: dict[str, Any] = field(default_factory=dict)
