"""Rows of ops.votes: the votes of an action, oldest first. A vote is inserted by the vote's
hot path (repository.changes, with everything else the vote changes); a parameter change voids
every earlier vote of the action."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.actions import Vote
from services.ops.repository.writes import Target, Write, run
from services.ops.tables import votes

OF_ACTION = (
    "SELECT voter, roles, approve, comment, at, parameters_version, voided"
    " FROM ops.votes WHERE action_id = %s ORDER BY at, id"
)
ADD = (
    "INSERT INTO ops.votes (id, action_id, voter, roles, approve, comment, at,"
    " parameters_version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
VOID = "UPDATE ops.votes SET voided = true WHERE action_id = %s"


def adding(action_id: str, vote: Vote) -> Write:
    roles = Jsonb(sorted(vote.roles))
    return ADD, (uuid.uuid4(), action_id, vote.voter, roles, vote.approve, vote.comment, vote.at,
                 vote.parameters_version)  # fmt: skip


async def void(target: Target, action_id: str) -> None:
    """Voids every vote of the action (its parameters changed)."""
    await run(target, (VOID, (action_id,)))


async def of_actions(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[Vote]]:
    """The votes of each action, by its id (every id present, with no votes or some)."""
    cast: dict[str, list[Vote]] = {action_id: [] for action_id in ids}
    if not ids:
        return cast
    query = select(votes).where(votes.c.action_id.in_(ids)).order_by(votes.c.at, votes.c.id)
    for v in (await session.execute(query)).all():
        cast[v.action_id].append(vote_from(v))
    return cast


def vote_from(v: Any) -> Vote:
    """A vote from a row of ops.votes (any row with the columns as attributes)."""
    return Vote(
        v.voter, frozenset(v.roles), v.approve, v.comment, v.at, v.parameters_version, v.voided
    )
