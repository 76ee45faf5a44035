"""The one-row audit.head: the log's size and last hash. The sequencer's pipeline in
appends.py is its one write path; locking it sequences writers, across replicas too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection
from services.audit.log.domain.records import Head
from services.audit.tables import head


async def lock_head(session: AsyncSession) -> Head:
    """Takes the head row lock: the one-writer-at-a-time sequencer, held until commit."""
    query = select(head.c.size, head.c.last_hash).where(head.c.id == 1).with_for_update()
    row = (await session.execute(query)).one()
    return Head(row.size, row.last_hash)


async def read_head(session: AsyncSession) -> Head:
    row = (await session.execute(select(head.c.size, head.c.last_hash))).one()
    return Head(row.size, row.last_hash)


async def size_or_zero(session: AsyncSession) -> int:
    return int((await session.execute(select(head.c.size))).scalar_one_or_none() or 0)


async def log_size(connection: RawConnection) -> int:
    """The log's size now, on a plain connection (the proofs' and the tree loader's path)."""
    cursor = await connection.execute("SELECT size FROM audit.head")
    return int((await cursor.fetchall())[0][0])
