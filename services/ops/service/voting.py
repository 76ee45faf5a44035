"""Voting: approve and reject. The action row is locked for the whole vote, so simultaneous
votes on one action queue up and exactly one of them makes the decision. A refused vote (see
services.ops.domain.quorum for the rules) is audited as "denied" in a transaction of its own.

Votes are the busiest writes, so they run on a plain psycopg connection (BEGIN, the locked
load, every write at once in repository.changes, COMMIT) rather than through the ORM session,
at a fraction of its CPU per vote; the statements written are the ones every use case writes."""

from __future__ import annotations

from datetime import datetime

from runtime.auth import Principal
from runtime.db import Database
from runtime.db_unit import Unit, unit
from runtime.errors import Conflict, NotFound, PermissionDenied
from runtime.outbox import person
from services.ops.domain import events
from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.eligibility import Eligibility, expiry
from services.ops.domain.eligibility import explain as eligibility
from services.ops.domain.quorum import decide
from services.ops.domain.transition import Timers, actor_of, check_id, plan
from services.ops.repository import actions, changes, outbox
from services.ops.service.refusals import audited
from services.ops.service.transition import load


async def approve(
    db: Database, *, action_id: str, approver: Principal, now: datetime, comment: str = ""
) -> Action:
    return await _vote(db, action_id, approver, approve=True, comment=comment, now=now)


async def reject(
    db: Database, *, action_id: str, approver: Principal, now: datetime, comment: str = ""
) -> Action:
    return await _vote(db, action_id, approver, approve=False, comment=comment, now=now)


async def explain(db: Database, *, action_id: str, voter: Principal, now: datetime) -> Eligibility:
    """Whether `voter` may approve and reject the action at `now`, and why not: what the vote
    would answer (domain.eligibility), read without the row lock or any write."""
    async with db.transaction() as session:
        action = await load(session, action_id)
    return eligibility(action, voter.subject, voter.roles, now)


async def _vote(
    db: Database, action_id: str, voter: Principal, *, approve: bool, comment: str, now: datetime
) -> Action:
    vote = Vote(voter.subject, voter.roles, approve, comment, now)
    payload = {"approve": approve, "comment": comment}
    async with audited(db, voter, events.VOTE_RECORDED, action_id, payload):
        counted = await _count_or_expire(db, action_id, vote, voter)
        if isinstance(counted, Action):
            return counted
        raise counted


async def _count_or_expire(
    db: Database, action_id: str, vote: Vote, voter: Principal
) -> Action | Conflict | PermissionDenied:
    check_id(action_id)
    with changes.traced():  # the whole transaction, commit included
        async with unit(db) as work:
            # The row lock makes concurrent votes on one action queue up: one decision, exact count.
            action = await actions.begin_locked(work, action_id)
            if action is None:
                raise NotFound(f"no action {action_id}")
            refused = expiry(action, vote)
            if refused is None:
                return await _cast(work, action, vote, voter)  # decide() checks the rest
            # The expiry timer has not fired yet: expire now (committed), and refuse the vote.
            why = refused.expired
            expired = plan(action, State.EXPIRED, actor=actor_of(None), now=vote.at, reason=why)
            await changes.apply_last(work, changes.of_move(expired))
    return refused.exception()


async def _cast(work: Unit, before: Action, vote: Vote, voter: Principal) -> Action:
    voted, outcome = decide(before, vote)
    cast = voted.votes[-1]
    verb = "approved" if vote.approve else "rejected"
    detail = {
        "approve": vote.approve,
        "comment": vote.comment,
        "parameters_version": cast.parameters_version,
        "state": (outcome or voted.state).value,
    }
    event = outbox.row(person(voter), events.VOTE_RECORDED, before.id, detail)
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
        await changes.apply_last(work, changes.Change(voted, cast, [event], [entry], Timers()))
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
    await changes.apply_last(work, changes.of_move(decided, cast, [event], [entry]))
    return decided.after
