"""What forwarding reads of the log: the records after a position (through the log's own
reader), then the signed checkpoints they complete, and the log's size from the shared head."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log import read_records
from services.audit.siem.domain.batches import Batch, Checkpoint, Position
from services.audit.tables import checkpoints, head


async def read_batch(session: AsyncSession, after: Position, limit: int) -> Batch:
    """Records after `after.seq`, then the checkpoints those records complete: a checkpoint
    goes out only after every record it covers."""
    size = (await session.execute(select(head.c.size))).scalar_one()
    found = await read_records(session, after_seq=after.seq, limit=limit)
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
