"""What one state change of an action is, computed before any I/O: the action after it, who
made it, its audit event, its timeline entry, and how its durable timers follow. The use cases
(services.ops.service.transition and .voting) write it in their transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from runtime.outbox import automation, person
from services.ops.domain.actions import TERMINAL, Action, State
from services.ops.domain.events import verb_for

# Timer-driven changes (expiry, escalation) are made by this automation.
TIMER_NAME = "ops-timers"
TIMER_VERSION = "1"
DECISION_TIMERS = ("expire", "escalate", "remind")


@dataclass(frozen=True)
class Actor:
    """Who made a change, in the three forms the outbox and the timeline need."""

    audit: dict[str, Any]
    name: str
    machine: bool


def actor_of(principal: Principal | None) -> Actor:
    """A person, a service (the agent, an executor), or the timers when None."""
    if principal is None:
        return Actor(automation(TIMER_NAME, TIMER_VERSION), TIMER_NAME, True)
    return Actor(person(principal), principal.subject, principal.kind == "service")


@dataclass(frozen=True)
class Timers:
    """How a state change keeps the action's durable timers in step."""

    cancel: bool = False
    kinds: tuple[str, ...] | None = None  # which pending timers to cancel; None: every kind
    schedule: tuple[tuple[str, datetime], ...] = ()  # (kind, due_at) to add


@dataclass(frozen=True)
class Move:
    """Everything one state change writes."""

    after: Action
    actor: Actor
    verb: str
    payload: dict[str, Any]
    entry: dict[str, Any]  # the timeline entry's fields (services.ops.repository.timeline)
    timers: Timers


def plan(
    before: Action,
    state: State,
    *,
    actor: Actor,
    now: datetime,
    reason: str,
    details: dict[str, Any] | None = None,
    **changes: Any,
) -> Move:
    """Moves `before` to `state` in memory; Conflict when illegal."""
    after = before.moved_to(state, now, **changes)
    if state is State.APPROVED:
        after = after.changed(now, decided_at=now, valid_until=now + after.policy.validity)
    elif state is State.REJECTED:
        after = after.changed(now, decided_at=now)
    payload = {"from": before.state.value, "to": state.value, "reason": reason, **(details or {})}
    entry = {
        "action_id": after.id,
        "kind": "state",
        "actor": actor.name,
        "machine": actor.machine,
        "text": f"{before.state} -> {state}" + (f": {reason}" if reason else ""),
        "details": payload,
        "at": now,
    }
    return Move(after, actor, verb_for(state), payload, entry, _timers_for(after))


def _timers_for(action: Action) -> Timers:
    if action.state in TERMINAL:
        return Timers(cancel=True)
    if action.state is State.APPROVED:
        assert action.valid_until is not None
        return Timers(True, DECISION_TIMERS, (("validity_end", action.valid_until),))
    if action.state is State.EXECUTING:
        return Timers(True, ("validity_end",))
    return Timers()


def overdue(action: Action, now: datetime) -> str:
    """Why the action must expire at `now`, or "" when it need not."""
    if action.state is State.PENDING_APPROVAL and action.expires_at and now >= action.expires_at:
        return f"not decided by {action.expires_at.isoformat()}"
    if action.state is State.APPROVED and action.valid_until and now >= action.valid_until:
        return f"its validity window ended at {action.valid_until.isoformat()}"
    return ""


def check_id(action_id: str) -> None:
    try:
        uuid.UUID(action_id)
    except ValueError:
        raise InvalidArgument(f"action id {action_id!r} is not a UUID") from None
