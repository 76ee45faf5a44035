"""The durable forwarding cursors, one row per destination in audit.siem_cursors."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.siem.domain.batches import Position
from services.audit.siem.tables import siem_cursors
from services.audit.tables import head


async def cursor(session: AsyncSession, destination: str) -> Position:
    """The destination's confirmed position; creates its row (at the start) on first use."""
    new = insert(siem_cursors).values(destination=destination)
    await session.execute(new.on_conflict_do_nothing(index_elements=["destination"]))
    query = select(siem_cursors.c.confirmed_seq, siem_cursors.c.checkpoint_size)
    row = (await session.execute(query.where(siem_cursors.c.destination == destination))).one()
    return Position(row.confirmed_seq, row.checkpoint_size)


async def advance(session: AsyncSession, destination: str, confirmed: Position) -> None:
    # GREATEST: a replica that lost its claim mid-batch can never move the cursor back.
    c = siem_cursors.c
    values = {
        "confirmed_seq": func.greatest(c.confirmed_seq, confirmed.seq),
        "checkpoint_size": func.greatest(c.checkpoint_size, confirmed.checkpoint_size),
        "updated_at": func.now(),
    }
    await session.execute(update(siem_cursors).where(c.destination == destination).values(values))


async def lags(session: AsyncSession) -> dict[str, int]:
    """Records not yet confirmed, per destination: head size - 1 - confirmed_seq."""
    size = (await session.execute(select(head.c.size))).scalar_one()
    rows = await session.execute(select(siem_cursors.c.destination, siem_cursors.c.confirmed_seq))
    return {row.destination: size - 1 - row.confirmed_seq for row in rows}
