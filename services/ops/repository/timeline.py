"""An action's timeline in ops.timeline: every vote, state change, comment, assignment,
acknowledgement, parameter change, execution event, escalation, reminder and notification, kept
forever. Entries are only ever inserted, by `insert` (several at once) or `add` (one, giving
back its id), inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.actions import TimelineEntry
from services.ops.repository.writes import Target, Write, run_returning
from services.ops.tables import timeline

KINDS = frozenset(
    {
        "comment",
        "vote",
        "state",
        "assignment",
        "acknowledgement",
        "escalation",
        "reminder",
        "parameters",
        "execution",
        "notification",
    }
)
FIELDS = ("action_id", "at", "kind", "actor", "machine", "text", "details")


def insert(entries: Sequence[dict[str, Any]]) -> Write:
    """The entries (dicts of FIELDS, `details` optional), in one INSERT."""
    for entry in entries:
        if entry["kind"] not in KINDS:
            raise ValueError(f"unknown timeline kind {entry['kind']!r}")
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(entries))
    params = [
        Jsonb(e.get(name) or {}) if name == "details" else e[name]
        for e in entries
        for name in FIELDS
    ]
    return f"INSERT INTO ops.timeline ({', '.join(FIELDS)}) VALUES {values}", params


async def add(
    target: Target,
    *,
    action_id: str,
    kind: str,
    actor: str,
    machine: bool,
    text: str,
    details: dict[str, Any] | None = None,
    at: datetime,
) -> TimelineEntry:
    """Appends an entry; `actor` is a person's subject or the automation's name."""
    entry: dict[str, Any] = {
        "action_id": action_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "machine": machine,
        "text": text,
        "details": details or {},
    }
    sql, params = insert([entry])
    entry_id = await run_returning(target, (sql + " RETURNING id", params))
    return TimelineEntry(id=entry_id, **entry)


async def for_action(session: AsyncSession, action_id: str) -> list[TimelineEntry]:
    """Oldest first; entries written at the same instant keep their insertion order."""
    query = (
        select(timeline)
        .where(timeline.c.action_id == action_id)
        .order_by(timeline.c.at, timeline.c.id)
    )
    return [
        TimelineEntry(
            id=row.id,
            action_id=row.action_id,
            at=row.at,
            kind=row.kind,
            actor=row.actor,
            machine=row.machine,
            text=row.text,
            details=row.details,
        )
        for row in (await session.execute(query)).all()
    ]
