"""The hand-off to executors: an approved action starts executing only inside its validity
window, claimed by the authenticated caller (a service's executor, or a person by hand); only
that claimant records how it ended, and only a person resolves an OUTCOME_UNKNOWN
(services.ops.domain.claims)."""

from __future__ import annotations

from datetime import datetime

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument
from services.ops.domain import claims, events
from services.ops.domain.actions import Action, State
from services.ops.domain.transition import actor_of, overdue
from services.ops.repository import timeline
from services.ops.service.refusals import audited
from services.ops.service.transition import load, move

OUTCOMES = frozenset({State.EXECUTED, State.FAILED, State.OUTCOME_UNKNOWN})


async def start_execution(
    db: Database, *, action_id: str, actor: Principal, executor: str, now: datetime
) -> Action:
    """APPROVED -> EXECUTING while now < valid_until, claimed by `actor`. Past the window the
    action becomes EXPIRED (that change is committed) and the call is refused with Conflict. A
    person names no executor (they execute by hand); a service must name one."""
    verb = events.verb_for(State.EXECUTING)
    payload = {"executor": executor, "claimed_by": claims.claimant_of(actor)}
    async with audited(db, actor, verb, action_id, payload):
        name = claims.executor_for(actor, executor)
        started = await _start_or_expire(db, action_id, actor, name, now)
        if isinstance(started, Conflict):
            raise started
        return started


async def _start_or_expire(
    db: Database, action_id: str, actor: Principal, executor: str, now: datetime
) -> Action | Conflict:
    async with db.transaction() as session:
        action = await load(session, action_id, lock=True)
        claims.check_hands(action, actor)
        reason = overdue(action, now)
        if not reason:
            who = actor_of(actor)
            claim = {"executor": executor, "claimed_by": claims.claimant_of(actor)}
            started = await move(
                session,
                action,
                State.EXECUTING,
                actor=who,
                now=now,
                reason=f"claimed by {who.name} ({executor})",
                details=claim,
                executor=executor,
                claimed_by=claim["claimed_by"],
            )
            await timeline.add(
                session,
                action_id=action_id,
                kind="execution",
                actor=who.name,
                machine=who.machine,
                text=f"execution started by {who.name} ({executor})",
                details=claim,
                at=now,
            )
            return started
        await move(session, action, State.EXPIRED, actor=actor_of(None), now=now, reason=reason)
    return Conflict(f"action {action_id} cannot start executing: {reason}; it is now EXPIRED")


async def record_result(
    db: Database, *, action_id: str, actor: Principal, outcome: State, detail: str, now: datetime
) -> Action:
    """EXECUTING -> EXECUTED | FAILED | OUTCOME_UNKNOWN from the claimant, or OUTCOME_UNKNOWN ->
    EXECUTED | FAILED from a person who checked the desk system, with the detail."""
    if outcome not in OUTCOMES:
        raise InvalidArgument("outcome must be EXECUTED, FAILED or OUTCOME_UNKNOWN")
    verb = events.verb_for(outcome)
    async with (
        audited(db, actor, verb, action_id, {"outcome": outcome.value, "detail": detail}),
        db.transaction() as session,
    ):
        action = await load(session, action_id, lock=True)
        claims.check_result(action, actor, detail)
        who = actor_of(actor)
        details = {"detail": detail, "claimed_by": action.claimed_by}
        if action.state is State.OUTCOME_UNKNOWN:
            details["resolved_by"] = claims.claimant_of(actor)
        after = await move(
            session,
            action,
            outcome,
            actor=who,
            now=now,
            reason=detail,
            details=details,
            execution_detail=detail,
        )
        await timeline.add(
            session,
            action_id=action_id,
            kind="execution",
            actor=who.name,
            machine=who.machine,
            text=f"{outcome}" + (f": {detail}" if detail else ""),
            details={"outcome": outcome.value, **details},
            at=now,
        )
        return after
