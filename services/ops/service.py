"""Use cases of the ops service. Each runs in one transaction and writes its audit events to the
outbox in that same transaction. A refused vote is audited too, in a transaction of its own,
because the use case's transaction is rolled back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from runtime.outbox import automation, person
from services.ops import events, paging, repository
from services.ops.domain import Action, Risk, State, Vote


@dataclass(frozen=True)
class Proposal:
    kind: str
    risk: Risk
    requested_by: str
    source_ref: str
    parameters: dict[str, Any] = field(default_factory=dict)
    rationale: str = ""
    # The agent's {"subject", "logic_version"}; trusted only from a service caller.
    proposed_by: dict[str, Any] = field(default_factory=dict)
    incident_id: str = ""
    decision_id: str = ""


async def propose(db: Database, *, proposal: Proposal, proposer: Principal) -> Action:
    """Records a pending action; the same source_ref again returns the existing action."""
    now = datetime.now(UTC)
    action = Action(
        id=str(uuid.uuid4()),
        kind=proposal.kind,
        parameters=proposal.parameters,
        risk=proposal.risk,
        rationale=proposal.rationale,
        requested_by=proposal.requested_by,
        proposed_by=_proposer(proposal, proposer),
        source_ref=proposal.source_ref,
        created_at=now,
        updated_at=now,
        incident_id=proposal.incident_id,
        decision_id=proposal.decision_id,
    )
    async with db.transaction() as session:
        if not await repository.add_action(session, action):
            return await _existing(session, action.source_ref)
        await events.record(
            session, action.proposed_by, events.PROPOSED, action.id, events.summary(action)
        )
    return action


async def get(db: Database, *, action_id: str) -> Action:
    async with db.transaction() as session:
        return await _load(session, action_id)


async def list_actions(
    db: Database, *, state: State | None = None, page_size: int = 0, page_token: str = ""
) -> tuple[list[Action], str]:
    """A page of actions, newest first, and the token of the next page ("" after the last)."""
    limit, after = paging.page_size(page_size), paging.decode(page_token)
    async with db.transaction() as session:
        found = await repository.page(session, state, limit + 1, after)
    if len(found) <= limit:
        return found, ""
    last = found[limit - 1]
    return found[:limit], paging.encode(last.created_at, last.id)


async def approve(
    db: Database, *, action_id: str, approver: Principal, comment: str = ""
) -> Action:
    return await _vote(db, action_id, approver, approve=True, comment=comment)


async def reject(db: Database, *, action_id: str, approver: Principal, comment: str = "") -> Action:
    return await _vote(db, action_id, approver, approve=False, comment=comment)


async def _vote(
    db: Database, action_id: str, voter: Principal, *, approve: bool, comment: str
) -> Action:
    vote = Vote(voter.subject, voter.roles, approve, comment, datetime.now(UTC))
    try:
        async with db.transaction() as session:
            return await _cast(session, action_id, vote, voter)
    except (PermissionDenied, Conflict) as refusal:
        async with db.transaction() as session:
            payload = {"approve": approve, "comment": comment, "reason": str(refusal)}
            await events.record(
                session, person(voter), events.VOTE_RECORDED, action_id, payload, "denied"
            )
        raise


async def _cast(session: AsyncSession, action_id: str, vote: Vote, voter: Principal) -> Action:
    before = await _load(session, action_id, lock=True)
    after = before.with_vote(vote)
    await repository.add_vote(session, action_id, vote)
    await repository.save_state(session, after)
    actor = person(voter)
    detail = {"approve": vote.approve, "comment": vote.comment, "state": after.state.value}
    await events.record(session, actor, events.VOTE_RECORDED, action_id, detail)
    if after.state is not State.PENDING_APPROVAL:
        verb = events.APPROVED if after.state is State.APPROVED else events.REJECTED
        await events.record(session, actor, verb, action_id, events.tally(after))
    return after


async def _load(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action:
    _check_id(action_id)
    action = await repository.get(session, action_id, lock=lock)
    if action is None:
        raise NotFound(f"no action {action_id}")
    return action


async def _existing(session: AsyncSession, source_ref: str) -> Action:
    action = await repository.by_source_ref(session, source_ref)
    assert action is not None, "the insert conflicted on source_ref, so the row exists"
    return action


def _proposer(proposal: Proposal, principal: Principal) -> dict[str, Any]:
    # Only a service (the agent) may name someone else as proposer; people propose as themselves.
    agent = proposal.proposed_by
    if principal.kind == "service" and agent.get("subject"):
        return automation(str(agent["subject"]), str(agent.get("logic_version", "")))
    return person(principal)


def _check_id(action_id: str) -> None:
    try:
        uuid.UUID(action_id)
    except ValueError:
        raise InvalidArgument(f"action id {action_id!r} is not a UUID") from None
