"""Escalation use cases: planning levels at proposal, escalating by hand, and the "escalate"
timer's effect (services.ops.domain.escalation has the rules). Timers carry the policy
version and the level they were planned for, so a timer that comes too late (the action was
decided, acknowledged, or escalated by hand meanwhile) does nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict
from runtime.outbox import person
from services.ops.domain.actions import Action, State
from services.ops.domain.escalation import (
    ACTOR,
    ESCALATED,
    NAME,
    EscalationPolicy,
    Level,
    escalation_details,
    notice,
)
from services.ops.domain.timers import Timer
from services.ops.repository import (
    actions,
    escalation_policies,
    notifications,
    outbox,
    timeline,
    timers,
)
from services.ops.service import assignment, transition
from services.ops.service.joined import joined
from services.ops.service.refusals import audited

log = logging.getLogger(__name__)


async def plan(session: AsyncSession, action: Action) -> None:
    """Schedules level 1 and the expiry reminder of a freshly proposed action."""
    policy = await _named(session, action.policy.escalation_policy_id)
    if policy is None:
        return
    ref = {"policy": policy.id, "version": policy.version}
    first = action.created_at + timedelta(seconds=policy.levels[0].after_s)
    await timers.schedule(
        session, action_id=action.id, kind="escalate", due_at=first, payload=ref | {"level": 1}
    )
    if policy.remind_before_expiry_s and action.expires_at is not None:
        due = action.expires_at - timedelta(seconds=policy.remind_before_expiry_s)
        await timers.schedule(session, action_id=action.id, kind="remind", due_at=due, payload=ref)


async def escalate(
    db: Database, *, action_id: str, actor: Principal | None, reason: str, now: datetime
) -> Action:
    """Moves a pending action to its next level, by hand (actor) or by a timer (None); a
    refusal (not pending, no escalation policy) is audited."""
    reason = reason or "escalated by hand"
    refusal = audited(db, actor, ESCALATED, action_id, {"reason": reason})
    async with refusal, db.transaction() as session:
        action = await transition.load(session, action_id, lock=True)
        if action.state is not State.PENDING_APPROVAL:
            raise Conflict(f"action {action_id} is {action.state}; only pending escalates")
        policy = await _planned(session, action)
        await timers.cancel(session, action_id, ["escalate"])
        return await _advance(session, action, policy, actor, reason, now)


async def fire(db: Database, timer: Timer, now: datetime) -> Action | None:
    """The "escalate" timer's effect: level payload["level"], if the action still needs it."""
    number = int(timer.payload["level"])
    async with db.transaction() as session:
        action = await transition.load(session, timer.action_id, lock=True)
        waiting = action.state is State.PENDING_APPROVAL and action.escalation_level == number - 1
        if not waiting or (number == 1 and action.acknowledged_at is not None):
            return None
        policy = await escalation_policies.load(
            session, timer.payload["policy"], timer.payload["version"]
        )
        if policy is None:
            return None
        reason = "not acknowledged or decided in time" if number == 1 else "not decided in time"
        return await _advance(session, action, policy, None, reason, now)


async def _advance(
    session: AsyncSession,
    action: Action,
    policy: EscalationPolicy,
    actor: Principal | None,
    reason: str,
    now: datetime,
) -> Action:
    number = action.escalation_level + 1
    level = policy.level(number)
    if level.assign_to or level.assign_team:
        action = await _reassign(session, action, level, now)
    action = action.changed(now, escalation_level=number)
    await actions.save(session, action)
    details = escalation_details(policy, level, number, reason)
    await outbox.record(session, person(actor) if actor else ACTOR, ESCALATED, action.id, details)
    await timeline.add(
        session,
        action_id=action.id,
        kind="escalation",
        actor=actor.subject if actor else NAME,
        machine=actor is None,
        text=f"Escalated to level {number}: {reason}",
        details=details,
        at=now,
    )
    await notifications.enqueue(session, level.notify, notice(action, ESCALATED, reason), now)
    if number < policy.last_level:
        await timers.schedule(
            session,
            action_id=action.id,
            kind="escalate",
            due_at=now + timedelta(seconds=policy.level(number + 1).after_s),
            payload={"policy": policy.id, "version": policy.version, "level": number + 1},
        )
    return action


async def _reassign(session: AsyncSession, action: Action, level: Level, now: datetime) -> Action:
    return await assignment.assign(
        joined(session),
        action_id=action.id,
        assignee=level.assign_to,
        team=level.assign_team,
        actor=None,
        now=now,
    )


async def _named(session: AsyncSession, policy_id: str) -> EscalationPolicy | None:
    if not policy_id:
        return None
    policy = await escalation_policies.load(session, policy_id)
    if policy is None:
        log.warning("approval policy names unknown escalation policy %r", policy_id)
    return policy


async def _planned(session: AsyncSession, action: Action) -> EscalationPolicy:
    """The policy version the action's timers were planned with (else the current one)."""
    ref = await timers.last_escalation_plan(session, action.id)
    policy_id = ref["policy"] if ref else action.policy.escalation_policy_id
    policy = await escalation_policies.load(session, policy_id, ref["version"] if ref else None)
    if policy is None:
        raise Conflict(f"action {action.id} has no escalation policy to escalate along")
    return policy
