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
    after = before.moved_to(state, now, **changes)
    if state is State.APPROVED:
        after = after.changed(now, decided_at=now, valid_until=now + after.policy.validity)
    elif state is State.REJECTED:
        after = after.changed(now, decided_at=now)
    await repository.save(session, after)
    payload = {"from": before.state.value, "to": state.value, "reason": reason, **(details or {})}
    await events.record(session, actor.audit, events.verb_for(state), after.id, payload)
    await timeline.add(
        session,
        action_id=after.id,
        kind="state",
        actor=actor.name,
        machine=actor.machine,
        text=f"{before.state} -> {state}" + (f": {reason}" if reason else ""),
        details=payload,
        at=now,
    )
    await _retime(session, after)
    return after


async def _retime(session: AsyncSession, action: Action) -> None:
    if action.state in TERMINAL:
        await timers.cancel(session, action.id)
    elif action.state is State.APPROVED:
        await timers.cancel(session, action.id, DECISION_TIMERS)
        assert action.valid_until is not None
        await timers.schedule(
            session, action_id=action.id, kind="validity_end", due_at=action.valid_until
        )
    elif action.state is State.EXECUTING:
        await timers.cancel(session, action.id, ("validity_end",))


def check_id(action_id: str) -> None:
    try:
        uuid.UUID(action_id)
    except ValueError:
        raise InvalidArgument(f"action id {action_id!r} is not a UUID") from None
