"""Escalation: what happens when nobody acknowledges or decides a pending action in time.

Level i fires `after_s` after level i-1 (level 1: after the proposal) unless the action was
decided, or, for level 1, acknowledged. Firing notifies the level's destinations, reassigns when
the level names someone, bumps the action's escalation_level, and schedules the next level; after
the last level it repeats up to `repeat_limit` times. A reminder goes out
`remind_before_expiry_s` before a pending action expires."""

from services.ops.escalation.levels import escalate, fire, plan
from services.ops.escalation.policies import (
    EscalationPolicy,
    Level,
    list_escalation_policies,
    put_escalation_policy,
)
from services.ops.escalation.reminders import remind

__all__ = [
    "EscalationPolicy",
    "Level",
    "escalate",
    "fire",
    "list_escalation_policies",
    "plan",
    "put_escalation_policy",
    "remind",
]
