"""The vote's hot path on a plain psycopg connection (runtime.db.Database.raw_transaction):
two statements load the action with its row lock, then its votes; one statement writes
everything a vote changes (the vote, the action, its outbox events and timeline entries in
multi-row INSERTs, its timers). The rows are the ones repository, events, timeline and timers
write on the SQLAlchemy path; what a state change writes is planned once, in
services.ops.transition."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb

from runtime.db import RawConnection
from services.ops import repository, timeline
from services.ops.domain import Action, Vote
from services.ops.transition import Timers

# The columns repository.action_from reads, so a column added there is loaded here too.
COLUMNS = tuple(
    "id::text AS id" if n == "id" else n for n in (*repository.FIXED, *repository.MUTABLE)
)
ACTION = f"SELECT {', '.join(COLUMNS)}, policy FROM ops.actions WHERE id = %s FOR UPDATE"
VOTES = (
    "SELECT voter, roles, approve, comment, at, parameters_version, voided"
    " FROM ops.votes WHERE action_id = %s ORDER BY at, id"
)
ADD_VOTE = (
    "INSERT INTO ops.votes (id, action_id, voter, roles, approve, comment, at,"
    " parameters_version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
SAVE = (
    "UPDATE ops.actions SET "
    + ", ".join(f"{name} = %s" for name in repository.MUTABLE)
    + " WHERE id = %s"
)
CANCEL_TIMERS = (
    "UPDATE ops.timers SET state = 'cancelled' WHERE id IN (SELECT id FROM ops.timers"
    " WHERE action_id = %s AND state = 'pending' AND (%s::text[] IS NULL OR kind = ANY(%s::text[]))"
    " FOR UPDATE SKIP LOCKED)"
)
SCHEDULE = "INSERT INTO ops.timers (action_id, kind, due_at) VALUES (%s, %s, %s)"
TRANSACTION = (
    "BEGIN; SELECT ops.actions FOR UPDATE, ops.votes;"
    " INSERT/UPDATE ops.votes, actions, outbox, timeline, timers; COMMIT"
)


@dataclass(frozen=True)
class Writes:
    """What one vote changes: the action as it ends up, the new vote, and the rest."""

    action: Action
    vote: Vote | None
    events: Sequence[dict[str, Any]]  # outbox rows (services.ops.events.row)
    entries: Sequence[dict[str, Any]]  # timeline entries' fields
    timers: Timers


async def load(conn: RawConnection, action_id: str) -> Action | None:
    """The action with its votes, its row locked until the transaction ends. Two statements:
    the votes' read starts once the lock is granted, so it sees every vote committed before.
    As one statement (votes in a subquery) it read them as of before the wait: 32 concurrent
    votes were all counted (tests/ops/test_concurrency.py). Two plain round trips, not one
    pipelined: psycopg's pipeline mode cost a vote more CPU, ours and PostgreSQL's, than the
    round trip it saved."""
    cursor = conn.cursor(row_factory=namedtuple_row)
    row = await (await cursor.execute(ACTION, (action_id,))).fetchone()
    if row is None:
        return None
    votes = await (await cursor.execute(VOTES, (action_id,))).fetchall()
    return repository.action_from(row, tuple(repository.vote_from(v) for v in votes))


async def write(conn: RawConnection, writes: Writes) -> None:
    """One statement: each write is a data-modifying WITH query of it (they touch different
    rows, so their order does not matter); any failure fails the transaction."""
    parts = _statements(writes)
    query = "WITH " + ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(parts))
    await conn.execute(query + " SELECT 1", [p for _, params in parts for p in params])


def _statements(writes: Writes) -> list[tuple[str, Sequence[Any]]]:
    action = writes.action
    parts: list[tuple[str, Sequence[Any]]] = [(SAVE, (*_mutable(action), action.id))]
    if writes.vote is not None:
        parts.append((ADD_VOTE, _vote_params(action.id, writes.vote)))
    if writes.events:
        parts.append(_outbox(writes.events))
    if writes.entries:
        parts.append(_timeline(writes.entries))
    if writes.timers.cancel:
        kinds = list(writes.timers.kinds) if writes.timers.kinds is not None else None
        parts.append((CANCEL_TIMERS, (action.id, kinds, kinds)))
    parts.extend((SCHEDULE, (action.id, kind, due)) for kind, due in writes.timers.schedule)
    return parts


def traced() -> AbstractContextManager[object]:
    """One span for the vote's transaction, its load to its commit. The ORM path's SQL spans
    come from the SQLAlchemy instrumentation; this stands in for them (one, not one a
    statement: with tracing on, every span recorded costs each approval its share)."""
    attributes = {"db.system": "postgresql", "db.statement": TRANSACTION}
    return trace.get_tracer(__name__).start_as_current_span("ops.vote.sql", attributes=attributes)


def _vote_params(action_id: str, vote: Vote) -> tuple[Any, ...]:
    roles = Jsonb(sorted(vote.roles))
    return (uuid.uuid4(), action_id, vote.voter, roles, vote.approve, vote.comment, vote.at,
            vote.parameters_version)  # fmt: skip


def _mutable(action: Action) -> list[Any]:
    row = repository.mutable_values(action)
    return [Jsonb(row[n]) if n == "parameters" else row[n] for n in repository.MUTABLE]


def _outbox(rows: Sequence[dict[str, Any]]) -> tuple[str, list[Any]]:
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    params = [v for r in rows for v in (r["event_id"], Jsonb(r["event"]), r["traceparent"])]
    return f"INSERT INTO ops.outbox (event_id, event, traceparent) VALUES {values}", params


def _timeline(entries: Sequence[dict[str, Any]]) -> tuple[str, list[Any]]:
    fields = ("action_id", "at", "kind", "actor", "machine", "text", "details")
    for entry in entries:
        if entry["kind"] not in timeline.KINDS:
            raise ValueError(f"unknown timeline kind {entry['kind']!r}")
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(entries))
    params = [
        Jsonb(e[name] or {}) if name == "details" else e[name] for e in entries for name in fields
    ]
    return f"INSERT INTO ops.timeline ({', '.join(fields)}) VALUES {values}", params
