"""Rows of ops.actions and ops.votes to domain objects and back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain import Action, Risk, State, Vote
from services.ops.policy import from_snapshot, snapshot
from services.ops.tables import actions, votes

Cursor = tuple[datetime, str]
# Columns a use case may change after the insert (everything else is fixed at proposal).
MUTABLE = (
    "state",
    "updated_at",
    "parameters",
    "parameters_version",
    "valid_until",
    "decided_at",
    "assignee",
    "assignee_team",
    "escalation_level",
    "acknowledged_at",
    "executor",
    "execution_detail",
    "cancel_reason",
)


@dataclass(frozen=True)
class Filters:
    state: State | None = None
    kind: str = ""
    risk: Risk | None = None
    assignee: str = ""


async def add_action(session: AsyncSession, action: Action) -> bool:
    """Inserts the action unless one with its source_ref exists; True when inserted."""
    statement = (
        insert(actions)
        .values(**row_of(action))
        .on_conflict_do_nothing(index_elements=["source_ref"])
        .returning(actions.c.id)
    )
    return (await session.execute(statement)).first() is not None


async def by_source_ref(session: AsyncSession, source_ref: str) -> Action | None:
    row = (await session.execute(select(actions).where(actions.c.source_ref == source_ref))).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def get(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action | None:
    """The action with its votes; `lock` holds its row so concurrent changes queue up."""
    query = select(actions).where(actions.c.id == action_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def page(
    session: AsyncSession, filters: Filters, limit: int, after: Cursor | None
) -> list[Action]:
    """Newest first; `after` is the (created_at, id) of the previous page's last action."""
    rows = (await session.execute(listing_query(filters, limit, after))).all()
    return await _with_votes(session, rows)


def listing_query(filters: Filters, limit: int, after: Cursor | None) -> Select[Any]:
    """Every filter leads an index ending in (created_at, id): a first page is a range scan."""
    query = select(actions).order_by(actions.c.created_at.desc(), actions.c.id.desc())
    wanted = {
        actions.c.state: filters.state.value if filters.state else "",
        actions.c.kind: filters.kind,
        actions.c.risk: filters.risk.value if filters.risk else "",
        actions.c.assignee: filters.assignee,
    }
    for column, value in wanted.items():
        if value:
            query = query.where(column == value)
    if after is not None:
        at, last_id = after
        older = or_(
            actions.c.created_at < at, and_(actions.c.created_at == at, actions.c.id < last_id)
        )
        query = query.where(older)
    return query.limit(limit)


async def void_votes(session: AsyncSession, action_id: str) -> None:
    await session.execute(update(votes).where(votes.c.action_id == action_id).values(voided=True))


async def save(session: AsyncSession, action: Action) -> None:
    """Writes every mutable field of the action (the row must be locked by the caller)."""
    values = mutable_values(action)
    await session.execute(update(actions).where(actions.c.id == action.id).values(**values))


def mutable_values(action: Action) -> dict[str, Any]:
    """The MUTABLE columns' values (cheaper than row_of: no policy snapshot)."""
    values = {name: getattr(action, name) for name in MUTABLE}
    values["state"] = action.state.value
    return values


async def _with_votes(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[Action]:
    ids = [row.id for row in rows]
    query = select(votes).where(votes.c.action_id.in_(ids)).order_by(votes.c.at, votes.c.id)
    cast: dict[str, list[Vote]] = {action_id: [] for action_id in ids}
    for v in (await session.execute(query)).all() if ids else []:
        cast[v.action_id].append(vote_from(v))
    return [action_from(row, tuple(cast[row.id])) for row in rows]


def vote_from(v: Any) -> Vote:
    """A vote from a row of ops.votes (any row with the columns as attributes)."""
    return Vote(
        v.voter, frozenset(v.roles), v.approve, v.comment, v.at, v.parameters_version, v.voided
    )


def action_from(row: Any, cast: tuple[Vote, ...]) -> Action:
    """An action from a row of ops.actions (any row with the columns as attributes)."""
    fields = {name: getattr(row, name) for name in (*MUTABLE, *FIXED)}
    fields.update(state=State(row.state), risk=Risk(row.risk))
    return Action(**fields, policy=from_snapshot(row.policy), votes=cast)


FIXED = (
    "id",
    "kind",
    "risk",
    "rationale",
    "requested_by",
    "proposed_by",
    "source_ref",
    "created_at",
    "incident_id",
    "decision_id",
    "expires_at",
)


def row_of(action: Action) -> dict[str, Any]:
    row = {name: getattr(action, name) for name in (*MUTABLE, *FIXED)}
    row.update(state=action.state.value, risk=action.risk.value)
    row.update(
        policy=snapshot(action.policy),
        policy_id=action.policy.id,
        approvals_required=action.approvals_required,
        compliance_relevant=action.compliance_relevant,
    )
    return row
