"""The hand-off to executors: an approved action starts executing only inside its validity
window, and its executor (or a person, for OUTCOME_UNKNOWN) records how it ended."""

from __future__ import annotations

from datetime import datetime

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from services.ops.domain import events
from services.ops.domain.actions import Action, State
from services.ops.domain.transition import actor_of, overdue
from services.ops.repository import timeline
from services.ops.service.refusals import audited
from services.ops.service.transition import load, move

OUTCOMES = frozenset({State.EXECUTED, State.FAILED, State.OUTCOME_UNKNOWN})


async def start_execution(
    db: Database, *, action_id: str, actor: Principal, executor: str, now: datetime
) -> Action:
    """APPROVED -> EXECUTING while now < valid_until. Past the window the action becomes
    EXPIRED (that change is committed) and the call is refused with Conflict."""
    verb = events.verb_for(State.EXECUTING)
    async with audited(db, actor, verb, action_id, {"executor": executor}):
        started = await _start_or_expire(db, action_id, actor, executor, now)
        if isinstance(started, Conflict):
            raise started
        return started


async def _start_or_expire(
    db: Database, action_id: str, actor: Principal, executor: str, now: datetime
) -> Action | Conflict:
    async with db.transaction() as session:
        action = await load(session, action_id, lock=True)
        reason = overdue(action, now)
        if not reason:
            who = actor_of(actor)
            started = await move(
                session,
                action,
                State.EXECUTING,
                actor=who,
                now=now,
                reason=f"handed to {executor}" if executor else "",
                details={"executor": executor},
                executor=executor,
            )
            await timeline.add(
                session,
                action_id=action_id,
                kind="execution",
                actor=who.name,
                machine=who.machine,
                text=f"execution started by {executor or who.name}",
                details={"executor": executor},
                at=now,
            )
            return started
        await move(session, action, State.EXPIRED, actor=actor_of(None), now=now, reason=reason)
    return Conflict(f"action {action_id} cannot start executing: {reason}; it is now EXPIRED")


async def record_result(
    db: Database, *, action_id: str, actor: Principal, outcome: State, detail: str, now: datetime
) -> Action:
    """EXECUTING (or OUTCOME_UNKNOWN, once a person has checked) -> EXECUTED | FAILED |
    OUTCOME_UNKNOWN, with the executor's detail."""
    if outcome not in OUTCOMES:
        raise InvalidArgument("outcome must be EXECUTED, FAILED or OUTCOME_UNKNOWN")
    verb = events.verb_for(outcome)
    async with (
        audited(db, actor, verb, action_id, {"outcome": outcome.value, "detail": detail}),
        db.transaction() as session,
    ):
        action = await load(session, action_id, lock=True)
        if action.state is State.OUTCOME_UNKNOWN and actor.kind == "service":
            raise PermissionDenied("a person must check the desk system to resolve it")
        who = actor_of(actor)
        after = await move(
            session,
            action,
            outcome,
            actor=who,
            now=now,
            reason=detail,
            details={"detail": detail},
            execution_detail=detail,
        )
        await timeline.add(
            session,
            action_id=action_id,
            kind="execution",
            actor=who.name,
            machine=who.machine,
            text=f"{outcome}" + (f": {detail}" if detail else ""),
            details={"outcome": outcome.value, "detail": detail},
            at=now,
        )
        return after
