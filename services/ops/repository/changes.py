"""Everything one change of an action writes, as one statement (repository.writes): the
action's row, the new vote if any, its outbox events and timeline entries in multi-row INSERTs,
and its timers. A vote writes this way on its plain psycopg connection, in two round trips
(runtime.db_unit: BEGIN with the locked load, then this with COMMIT); every other state change
writes the very same statements through its ORM session."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from runtime.db_unit import Unit
from services.ops.domain.actions import Action, Vote
from services.ops.domain.transition import Move, Timers
from services.ops.repository import actions, outbox, timeline, timers, votes
from services.ops.repository.writes import Target, Write, run, statement

TRANSACTION = (
    "BEGIN; SELECT ops.actions FOR UPDATE, ops.votes;"
    " INSERT/UPDATE ops.votes, actions, outbox, timeline, timers; COMMIT"
)


@dataclass(frozen=True)
class Change:
    """What one change writes: the action as it ends up, the new vote, and the rest."""

    action: Action
    vote: Vote | None
    events: Sequence[dict[str, Any]]  # outbox rows (repository.outbox.row)
    entries: Sequence[dict[str, Any]]  # timeline entries' fields
    timers: Timers


def of_move(
    moved: Move,
    cast: Vote | None = None,
    events: Sequence[dict[str, Any]] = (),
    entries: Sequence[dict[str, Any]] = (),
) -> Change:
    """A state change, after the rows of what caused it (a vote's own, if any)."""
    after = moved.after
    event = outbox.row(moved.actor.audit, moved.verb, after.id, moved.payload)
    return Change(after, cast, [*events, event], [*entries, moved.entry], moved.timers)


async def apply(target: Target, change: Change) -> None:
    """One statement; its writes touch different rows, so their order does not matter."""
    await run(target, *_writes(change))


async def apply_last(unit: Unit, change: Change) -> None:
    """apply() as the unit's last message (runtime.db_unit): the writes, then COMMIT."""
    sql, params = statement(*_writes(change))
    await unit.cursor().execute(unit.last(sql), params)


def _writes(change: Change) -> list[Write]:
    action = change.action
    parts = [actions.saving(action)]
    if change.vote is not None:
        parts.append(votes.adding(action.id, change.vote))
    if change.events:
        parts.append(outbox.insert(change.events))
    if change.entries:
        parts.append(timeline.insert(change.entries))
    if change.timers.cancel:
        parts.append(timers.cancelling(action.id, change.timers.kinds))
    parts.extend(timers.scheduling(action.id, kind, due) for kind, due in change.timers.schedule)
    return parts


def traced() -> AbstractContextManager[object]:
    """One span for the vote's transaction, its load to its commit. The ORM path's SQL spans
    come from the SQLAlchemy instrumentation; this stands in for them (one, not one a
    statement: with tracing on, every span recorded costs each approval its share)."""
    attributes = {"db.system": "postgresql", "db.statement": TRANSACTION}
    return trace.get_tracer(__name__).start_as_current_span("ops.vote.sql", attributes=attributes)
