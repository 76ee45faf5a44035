"""Rows of the ops schema to domain objects and back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain import Action, Risk, State, Vote
from services.ops.tables import actions, votes

Cursor = tuple[datetime, str]


async def add_action(session: AsyncSession, action: Action) -> bool:
    """Inserts the action unless one with its source_ref exists; True when inserted."""
    statement = (
        insert(actions)
        .values(**_action_row(action))
        .on_conflict_do_nothing(index_elements=["source_ref"])
        .returning(actions.c.id)
    )
    return (await session.execute(statement)).first() is not None


async def by_source_ref(session: AsyncSession, source_ref: str) -> Action | None:
    row = (await session.execute(select(actions).where(actions.c.source_ref == source_ref))).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def get(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action | None:
    """The action with its votes; `lock` holds its row so concurrent votes queue up."""
    query = select(actions).where(actions.c.id == action_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def page(
    session: AsyncSession, state: State | None, limit: int, after: Cursor | None
) -> list[Action]:
    """Newest first; `after` is the (created_at, id) of the previous page's last action."""
    query = select(actions).order_by(actions.c.created_at.desc(), actions.c.id.desc())
    if state is not None:
        query = query.where(actions.c.state == state.value)
    if after is not None:
        at, last_id = after
        older = or_(
            actions.c.created_at < at, and_(actions.c.created_at == at, actions.c.id < last_id)
        )
        query = query.where(older)
    rows = (await session.execute(query.limit(limit))).all()
    return await _with_votes(session, rows)


async def add_vote(session: AsyncSession, action_id: str, vote: Vote) -> None:
    await session.execute(
        insert(votes).values(
            id=str(uuid.uuid4()),
            action_id=action_id,
            voter=vote.voter,
            roles=sorted(vote.roles),
            approve=vote.approve,
            comment=vote.comment,
            at=vote.at,
        )
    )


async def save_state(session: AsyncSession, action: Action) -> None:
    await session.execute(
        update(actions)
        .where(actions.c.id == action.id)
        .values(state=action.state.value, updated_at=action.updated_at)
    )


async def _with_votes(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[Action]:
    ids = [row.id for row in rows]
    query = select(votes).where(votes.c.action_id.in_(ids)).order_by(votes.c.at, votes.c.id)
    cast: dict[str, list[Vote]] = {action_id: [] for action_id in ids}
    for vote in (await session.execute(query)).all() if ids else []:
        cast[vote.action_id].append(
            Vote(vote.voter, frozenset(vote.roles), vote.approve, vote.comment, vote.at)
        )
    return [_action(row, tuple(cast[row.id])) for row in rows]


def _action(row: Row[Any], cast: tuple[Vote, ...]) -> Action:
    return Action(
        id=row.id,
        kind=row.kind,
        parameters=row.parameters,
        risk=Risk(row.risk),
        rationale=row.rationale,
        requested_by=row.requested_by,
        proposed_by=row.proposed_by,
        source_ref=row.source_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
        incident_id=row.incident_id,
        decision_id=row.decision_id,
        state=State(row.state),
        approvals_required=row.approvals_required,
        votes=cast,
    )


def _action_row(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind,
        "parameters": action.parameters,
        "risk": action.risk.value,
        "state": action.state.value,
        "rationale": action.rationale,
        "requested_by": action.requested_by,
        "proposed_by": action.proposed_by,
        "incident_id": action.incident_id,
        "decision_id": action.decision_id,
        "source_ref": action.source_ref,
        "approvals_required": action.approvals_required,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }
