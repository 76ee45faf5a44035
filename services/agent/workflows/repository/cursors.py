"""Rows of agent.trigger_cursors: how far the consumer has read the audit log (`last_seq`) and
the log size its own last read left behind (`idle_size`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.workflows.tables import trigger_cursors as cursors


async def get(session: AsyncSession, name: str) -> tuple[int, int] | None:
    """(last_seq, idle_size), or None before the first start."""
    row = (await session.execute(select(cursors).where(cursors.c.name == name))).first()
    return None if row is None else (int(row.last_seq), int(row.idle_size))


async def start(
    session: AsyncSession, name: str, *, last_seq: int, idle_size: int, now: datetime
) -> None:
    """Creates the cursor unless another replica did first."""
    await session.execute(
        insert(cursors)
        .values(name=name, last_seq=last_seq, idle_size=idle_size, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )


async def advance(
    session: AsyncSession, name: str, last_seq: int, idle_size: int, now: datetime
) -> None:
    """Never backwards: a replica that read an older page cannot undo a newer advance."""
    await session.execute(
        update(cursors)
        .where(cursors.c.name == name)
        .values(
            last_seq=func.greatest(cursors.c.last_seq, last_seq),
            idle_size=func.greatest(cursors.c.idle_size, idle_size),
            updated_at=now,
        )
    )
