"""Rows of ops.actions to Action objects (with their votes) and back. Every write of the table
is here: `add` at proposal, and `saving`/`save` for each later change, which the vote's hot
path and every other use case share (repository.writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db_unit import Unit
from services.ops.domain.actions import Action, Filters, Risk, State, Vote
from services.ops.domain.counting import counting_roles
from services.ops.domain.policy import from_snapshot, snapshot
from services.ops.repository import votes
from services.ops.repository.listing import IN_INDEX_ORDER, After, in_index_order
from services.ops.repository.listing import listing_query as listing_query  # its first home
from services.ops.repository.writes import Target, Write, run, run_returning
from services.ops.tables import actions

# Columns a use case may change after the insert (everything else is fixed at proposal).
MUTABLE = ("state", "updated_at", "parameters", "parameters_version", "parameters_author",
           "valid_until", "decided_at", "assignee", "assignee_team", "escalation_level",
           "acknowledged_at", "executor", "claimed_by", "execution_detail",
           "cancel_reason")  # fmt: skip
FIXED = ("id", "kind", "risk", "rationale", "requested_by", "proposed_by", "source_ref",
         "created_at", "incident_id", "decision_id", "expires_at")  # fmt: skip
JSON = frozenset({"parameters", "proposed_by", "policy"})
# approvable_by is derived (domain.counting), written with every change, never read back.
SAVE = (
    f"UPDATE ops.actions SET {', '.join(f'{n} = %s' for n in MUTABLE)}, approvable_by = %s"
    " WHERE id = %s"
)
# The columns action_from reads, so a column added there is loaded here too.
COLUMNS = ", ".join("id::text AS id" if n == "id" else n for n in (*FIXED, *MUTABLE))
LOCK = f"SELECT {COLUMNS}, policy FROM ops.actions WHERE id = %s FOR UPDATE"


async def add(target: Target, action: Action) -> bool:
    """Inserts the action unless its proposer already has one with its source_ref; True when
    inserted."""
    row = row_of(action)
    names = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    sql = (
        f"WITH added AS (INSERT INTO ops.actions ({names}) VALUES ({marks})"
        " ON CONFLICT (proposer, source_ref) DO NOTHING RETURNING 1) SELECT count(*) FROM added"
    )
    return bool(await run_returning(target, (sql, [_param(n, v) for n, v in row.items()])))


def saving(action: Action) -> Write:
    """Writes every mutable field of the action (the row must be locked by the caller)."""
    values = mutable_values(action)
    return SAVE, [*(_param(n, values[n]) for n in MUTABLE), approvable_by(action), action.id]


async def save(target: Target, action: Action) -> None:
    await run(target, saving(action))


async def begin_locked(unit: Unit, action_id: str) -> Action | None:
    """The action with its votes, its row locked until the transaction ends, read as the unit's
    first message (runtime.db_unit). Two statements: the votes' read starts once the lock is
    granted, so it sees every vote committed before. As one statement (votes in a subquery) it
    read them as of before the wait: 32 concurrent votes were all counted
    (tests/ops/test_concurrency.py). One simple-query message, not psycopg's pipeline mode:
    that cost a vote more CPU, ours and PostgreSQL's, than the round trip it saved."""
    cursor = unit.cursor(row_factory=namedtuple_row)
    await unit.first(cursor, f"{LOCK}; {votes.OF_ACTION}", (action_id, action_id))
    found = await cursor.fetchone()
    cursor.nextset()
    cast = tuple(votes.vote_from(v) for v in await cursor.fetchall())
    return action_from(found, cast) if found else None


async def by_source_ref(session: AsyncSession, proposer: str, source_ref: str) -> Action | None:
    query = select(actions).where(
        actions.c.proposer == proposer, actions.c.source_ref == source_ref
    )
    row = (await session.execute(query)).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def get(session: AsyncSession, action_id: str, *, lock: bool = False) -> Action | None:
    """The action with its votes; `lock` holds its row so concurrent changes queue up."""
    query = select(actions).where(actions.c.id == action_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return (await _with_votes(session, [row]))[0] if row else None


async def page(
    session: AsyncSession, filters: Filters, limit: int, after: After | None
) -> list[Action]:
    """In the filters' order; `after` is the previous page's last action's place in it
    (repository.listing.place)."""
    if in_index_order(filters):
        await session.execute(IN_INDEX_ORDER)
    rows = (await session.execute(listing_query(filters, limit, after))).all()
    return await _with_votes(session, rows)


def approvable_by(action: Action) -> list[str]:
    return sorted(counting_roles(action))


def mutable_values(action: Action) -> dict[str, Any]:
    """The MUTABLE columns' values (cheaper than row_of: no policy snapshot)."""
    values = {name: getattr(action, name) for name in MUTABLE}
    values["state"] = action.state.value
    return values


async def _with_votes(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[Action]:
    cast = await votes.of_actions(session, [row.id for row in rows])
    return [action_from(row, tuple(cast[row.id])) for row in rows]


def action_from(row: Any, cast: tuple[Vote, ...]) -> Action:
    """An action from a row of ops.actions (any row with the columns as attributes)."""
    fields = {name: getattr(row, name) for name in (*MUTABLE, *FIXED)}
    fields.update(state=State(row.state), risk=Risk(row.risk))
    return Action(**fields, policy=from_snapshot(row.policy), votes=cast)


def row_of(action: Action) -> dict[str, Any]:
    row = {name: getattr(action, name) for name in (*MUTABLE, *FIXED)}
    row.update(state=action.state.value, risk=action.risk.value)
    row.update(
        policy=snapshot(action.policy),
        policy_id=action.policy.id,
        proposer=action.proposer,
        approvals_required=action.approvals_required,
        compliance_relevant=action.compliance_relevant,
        approvable_by=approvable_by(action),
    )
    return row


def _param(name: str, value: Any) -> Any:
    return Jsonb(value) if name in JSON else value
