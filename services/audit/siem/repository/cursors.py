"""Reads for forwarding (records, checkpoints, the head) and the durable cursors."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.records import Record
from services.audit.log.repository import records as repository
from services.audit.siem.domain.batches import Checkpoint, Position
from services.audit.tables import checkpoints, head, siem_cursors


@dataclass(frozen=True)
class Batch:
    after: Position
    head_size: int
    records: list[Record] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def end(self) -> Position:
        seq = self.records[-1].seq if self.records else self.after.seq
        size = self.checkpoints[-1].tree_size if self.checkpoints else self.after.checkpoint_size
        return Position(seq, size)

    def __bool__(self) -> bool:
        return bool(self.records or self.checkpoints)


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


async def read_batch(session: AsyncSession, after: Position, limit: int) -> Batch:
    """Records after `after.seq`, then the checkpoints those records complete: a checkpoint
    goes out only after every record it covers."""
    size = (await session.execute(select(head.c.size))).scalar_one()
    found = await repository.page(session, after_seq=after.seq, limit=limit)
    covered = (found[-1].seq if found else after.seq) + 1
    query = (
        select(checkpoints)
        .where(checkpoints.c.tree_size > after.checkpoint_size)
        .where(checkpoints.c.tree_size <= covered)
        .order_by(checkpoints.c.tree_size)
        .limit(limit)
    )
    signed = [
        Checkpoint(r.tree_size, r.root_hash, r.key_id, r.note, r.created_at)
        for r in await session.execute(query)
    ]
    return Batch(after, size, found, signed)


async def lags(session: AsyncSession) -> dict[str, int]:
    """Records not yet confirmed, per destination: head size - 1 - confirmed_seq."""
    size = (await session.execute(select(head.c.size))).scalar_one()
    rows = await session.execute(select(siem_cursors.c.destination, siem_cursors.c.confirmed_seq))
    return {row.destination: size - 1 - row.confirmed_seq for row in rows}
