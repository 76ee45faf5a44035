"""Voting: approve and reject. The action row is locked for the whole vote, so simultaneous
votes on one action queue up and exactly one of them makes the decision. A refused vote (see
services.ops.quorum for the rules) is audited as "denied" in a transaction of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict
from runtime.outbox import person
from services.ops import events, repository, timeline
from services.ops.domain import Action, State, Vote
from services.ops.lifecycle import overdue
from services.ops.quorum import decide
from services.ops.refusals import audited
from services.ops.transition import actor_of, load, move


async def approve(
    db: Database, *, action_id: str, approver: Principal, now: datetime, comment: str = ""
) -> Action:
    return await _vote(db, action_id, approver, approve=True, comment=comment, now=now)


async def reject(
    db: Database, *, action_id: str, approver: Principal, now: datetime, comment: str = ""
) -> Action:
    return await _vote(db, action_id, approver, approve=False, comment=comment, now=now)


async def _vote(
    db: Database, action_id: str, voter: Principal, *, approve: bool, comment: str, now: datetime
) -> Action:
    vote = Vote(voter.subject, voter.roles, approve, comment, now)
    payload = {"approve": approve, "comment": comment}
    async with audited(db, voter, events.VOTE_RECORDED, action_id, payload):
        counted = await _count_or_expire(db, action_id, vote, voter)
        if isinstance(counted, Conflict):
            raise counted
        return counted


async def _count_or_expire(
    db: Database, action_id: str, vote: Vote, voter: Principal
) -> Action | Conflict:
    async with db.transaction() as session:
        # The row lock makes concurrent votes on one action queue up: one decision, exact count.
        action = await load(session, action_id, lock=True)
        reason = overdue(action, vote.at)
        if not reason:
            return await _cast(session, action, vote, voter)
        # The expiry timer has not fired yet: expire now (committed), and refuse the vote.
        await move(session, action, State.EXPIRED, actor=actor_of(None), now=vote.at, reason=reason)
    return Conflict(f"action {action_id} expired: {reason}")


async def _cast(session: AsyncSession, before: Action, vote: Vote, voter: Principal) -> Action:
    voted, outcome = decide(before, vote)
    cast = voted.votes[-1]
    await repository.add_vote(session, before.id, cast)
    await repository.save(session, voted)
    actor = person(voter)
    verb = "approved" if vote.approve else "rejected"
    detail = {
        "approve": vote.approve,
        "comment": vote.comment,
        "parameters_version": cast.parameters_version,
        "state": (outcome or voted.state).value,
    }
    await events.record(session, actor, events.VOTE_RECORDED, before.id, detail)
    await timeline.add(
        session,
        action_id=before.id,
        kind="vote",
        actor=voter.subject,
        machine=False,
        text=f"{verb} (parameters v{cast.parameters_version})"
        + (f": {vote.comment}" if vote.comment else ""),
        details=detail,
        at=vote.at,
    )
    if outcome is None:
        return voted
    reason = "quorum reached" if outcome is State.APPROVED else "rejections reached K"
    return await move(
        session,
        voted,
        outcome,
        actor=actor_of(voter),
        now=vote.at,
        reason=reason,
        details=events.tally(voted),
    )
