"""The one way an action changes state: save it, audit it, put it on the timeline and keep its
durable timers in step, all inside the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.errors import InvalidArgument, NotFound
from runtime.outbox import automation, person
from services.ops import events, repository, timeline, timers
from services.ops.domain import TERMINAL, Action, State

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


async def load(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action:
    check_id(action_id)
    action = await repository.get(session, action_id, lock=lock)
    if action is None:
        raise NotFound(f"no action {action_id}")
    return action


@dataclass(frozen=True)
class Timers:
    """How a state change keeps the action's durable timers in step."""

    cancel: bool = False
    kinds: tuple[str, ...] | None = None  # which pending timers to cancel; None: every kind
    schedule: tuple[tuple[str, datetime], ...] = ()  # (kind, due_at) to add


@dataclass(frozen=True)
class Move:
    """Everything one state change writes, computed before any I/O, so the SQLAlchemy path
    (`move`) and the votes' plain-psycopg path (services.ops.vote_store) write the same."""

    after: Action
    actor: Actor
    verb: str
    payload: dict[str, Any]
    entry: dict[str, Any]  # the timeline entry's fields (services.ops.timeline.add)
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
    return Move(after, actor, events.verb_for(state), payload, entry, _timers_for(after))


async def move(
    session: AsyncSession,
    before: Action,
    state: State,
    *,
    actor: Actor,
    now: datetime,
    reason: str,
    details: dict[str, Any] | None = None,
    **changes: Any,
) -> Action:
    """Moves `before` (whose row the caller locked) to `state`; Conflict when illegal."""
    moved = plan(before, state, actor=actor, now=now, reason=reason, details=details, **changes)
    await repository.save(session, moved.after)
    await events.record(session, actor.audit, moved.verb, moved.after.id, moved.payload)
    await timeline.add(session, **moved.entry)
    if moved.timers.cancel:
        await timers.cancel(session, moved.after.id, moved.timers.kinds)
    for kind, due_at in moved.timers.schedule:
        await timers.schedule(session, action_id=moved.after.id, kind=kind, due_at=due_at)
    return moved.after


def _timers_for(action: Action) -> Timers:
    if action.state in TERMINAL:
        return Timers(cancel=True)
    if action.state is State.APPROVED:
        assert action.valid_until is not None
        return Timers(True, DECISION_TIMERS, (("validity_end", action.valid_until),))
    if action.state is State.EXECUTING:
        return Timers(True, ("validity_end",))
    return Timers()


def check_id(action_id: str) -> None:
    try:
        uuid.UUID(action_id)
    except ValueError:
        raise InvalidArgument(f"action id {action_id!r} is not a UUID") from None
