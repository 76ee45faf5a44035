"""Forwarding's use cases, one short transaction each: where a destination stands, the next
batch after a position, moving the cursor to what a destination confirmed, and every
destination's lag."""

from __future__ import annotations

from runtime.db import Database
from services.audit.siem.domain.batches import Batch, Position
from services.audit.siem.repository import cursors
from services.audit.siem.repository.batches import read_batch


async def confirmed(db: Database, destination: str) -> Position:
    async with db.transaction() as session:
        return await cursors.cursor(session, destination)


async def next_batch(db: Database, after: Position, limit: int) -> Batch:
    async with db.transaction() as session:
        return await read_batch(session, after, limit)


async def confirm(db: Database, destination: str, settled: Position) -> None:
    async with db.transaction() as session:
        await cursors.advance(session, destination, settled)


async def lags(db: Database) -> dict[str, int]:
    """Records not yet confirmed, per destination, read from the cursors."""
    async with db.transaction() as session:
        return await cursors.lags(session)
