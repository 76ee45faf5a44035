"""An action's timeline: every vote, state change, comment, assignment, acknowledgement,
parameter change, execution event, escalation, reminder and notification, kept forever.

`add` writes one entry inside the caller's transaction; any ops module may call it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain import TimelineEntry
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


async def add(
    session: AsyncSession,
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
    if kind not in KINDS:
        raise ValueError(f"unknown timeline kind {kind!r}")
    values = {
        "action_id": action_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "machine": machine,
        "text": text,
        "details": details or {},
    }
    entry_id = (
        await session.execute(insert(timeline).values(**values).returning(timeline.c.id))
    ).scalar_one()
    return TimelineEntry(id=entry_id, **values)  # type: ignore[arg-type]


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
