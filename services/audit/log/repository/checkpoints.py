"""Signed checkpoints as stored in audit.checkpoints: the sequencer's commit adds them (the
table's one write path), proofs and verification read them."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection
from services.audit.log.domain.checkpoints.cutting import Cut, LastCheckpoint, StoredCheckpoint
from services.audit.tables import checkpoints


async def last(session: AsyncSession) -> LastCheckpoint:
    query = select(checkpoints.c.tree_size, checkpoints.c.created_at)
    row = (await session.execute(query.order_by(checkpoints.c.tree_size.desc()).limit(1))).first()
    return LastCheckpoint(row.tree_size, row.created_at) if row else LastCheckpoint(0, None)


async def add(session: AsyncSession, cut: Cut) -> StoredCheckpoint:
    values = {"tree_size": cut.tree_size, "root_hash": cut.root_hex, "key_id": cut.key_id_hex}
    statement = insert(checkpoints).values(note=cut.note, **values)
    created_at = (await session.execute(statement.returning(checkpoints.c.created_at))).scalar_one()
    return StoredCheckpoint(cut.tree_size, cut.root_hex, cut.key_id_hex, cut.note, created_at)


async def get(session: AsyncSession, tree_size: int = 0) -> StoredCheckpoint | None:
    """The checkpoint cut at exactly tree_size, or the latest for 0."""
    query = select(checkpoints)
    if tree_size:
        query = query.where(checkpoints.c.tree_size == tree_size)
    row = (await session.execute(query.order_by(checkpoints.c.tree_size.desc()).limit(1))).first()
    if row is None:
        return None
    return StoredCheckpoint(row.tree_size, row.root_hash, row.key_id, row.note, row.created_at)


_LATEST = (
    "SELECT tree_size, root_hash, key_id, note, created_at FROM audit.checkpoints"
    " ORDER BY tree_size DESC LIMIT 1"
)
_AT = (
    "SELECT tree_size, root_hash, key_id, note, created_at FROM audit.checkpoints"
    " WHERE tree_size = %s"
)


async def fetch(connection: RawConnection, tree_size: int = 0) -> StoredCheckpoint | None:
    """As `get`, on a plain connection (the proofs' hot path)."""
    if tree_size:
        cursor = await connection.execute(_AT, (tree_size,))
    else:
        cursor = await connection.execute(_LATEST)
    row = await cursor.fetchone()
    return StoredCheckpoint(*row) if row else None


async def upto(session: AsyncSession, size: int) -> list[StoredCheckpoint]:
    query = select(checkpoints).where(checkpoints.c.tree_size <= size)
    rows = await session.execute(query.order_by(checkpoints.c.tree_size))
    return [
        StoredCheckpoint(r.tree_size, r.root_hash, r.key_id, r.note, r.created_at) for r in rows
    ]


async def newest_age(session: AsyncSession) -> tuple[int, float] | None:
    """The newest checkpoint's tree size and its age in seconds by the database's clock."""
    newest = (
        select(
            checkpoints.c.tree_size,
            func.extract("epoch", func.now() - checkpoints.c.created_at),
        )
        .order_by(checkpoints.c.tree_size.desc())
        .limit(1)
    )
    signed = (await session.execute(newest)).one_or_none()
    return (int(signed[0]), float(signed[1])) if signed else None
