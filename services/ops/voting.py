"""Voting: approve and reject. The action row is locked for the whole vote, so simultaneous
votes on one action queue up and exactly one of them makes the decision. A refused vote (see
services.ops.quorum for the rules) is audited as "denied" in a transaction of its own.

Votes are the busiest writes, so they run on a plain psycopg connection (services.ops.vote_store:
BEGIN, the locked load, every write at once, COMMIT) rather than through the ORM session, at a
fraction of its CPU per vote; the rows written are the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runtime.auth import Principal
from runtime.db import Database, RawConnection
from runtime.errors import Conflict, NotFound
from runtime.outbox import person
from services.ops import events, vote_store
from services.ops.domain import Action, State, Vote
from services.ops.lifecycle import overdue
from services.ops.quorum import decide
from services.ops.refusals import audited
from services.ops.transition import Move, Timers, actor_of, check_id, plan


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
    check_id(action_id)
    with vote_store.traced():  # the whole transaction, commit included
        async with db.raw_transaction() as conn:
            # The row lock makes concurrent votes on one action queue up: one decision, exact count.
            action = await vote_store.load(conn, action_id)
            if action is None:
                raise NotFound(f"no action {action_id}")
            reason = overdue(action, vote.at)
            if not reason:
                return await _cast(conn, action, vote, voter)
            # The expiry timer has not fired yet: expire now (committed), and refuse the vote.
            expired = plan(action, State.EXPIRED, actor=actor_of(None), now=vote.at, reason=reason)
            await vote_store.write(conn, _writes(expired, None, [], []))
    return Conflict(f"action {action_id} expired: {reason}")


async def _cast(conn: RawConnection, before: Action, vote: Vote, voter: Principal) -> Action:
    voted, outcome = decide(before, vote)
    cast = voted.votes[-1]
    actor = person(voter)
    verb = "approved" if vote.approve else "rejected"
    detail = {
        "approve": vote.approve,
        "comment": vote.comment,
        "parameters_version": cast.parameters_version,
        "state": (outcome or voted.state).value,
    }
    event = events.row(actor, events.VOTE_RECORDED, before.id, detail)
    entry = {
        "action_id": before.id,
        "kind": "vote",
        "actor": voter.subject,
        "machine": False,
        "text": f"{verb} (parameters v{cast.parameters_version})"
        + (f": {vote.comment}" if vote.comment else ""),
        "details": detail,
        "at": vote.at,
    }
    if outcome is None:
        await vote_store.write(conn, vote_store.Writes(voted, cast, [event], [entry], Timers()))
        return voted
    reason = "quorum reached" if outcome is State.APPROVED else "rejections reached K"
    decided = plan(
        voted,
        outcome,
        actor=actor_of(voter),
        now=vote.at,
        reason=reason,
        details=events.tally(voted),
    )
    await vote_store.write(conn, _writes(decided, cast, [event], [entry]))
    return decided.after


def _writes(
    moved: Move, cast: Vote | None, rows: list[dict[str, Any]], entries: list[dict[str, Any]]
) -> vote_store.Writes:
    """The vote's own rows (if any), then those of the state change it caused."""
    after = moved.after
    event = events.row(moved.actor.audit, moved.verb, after.id, moved.payload)
    return vote_store.Writes(after, cast, [*rows, event], [*entries, moved.entry], moved.timers)
