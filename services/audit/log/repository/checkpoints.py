"""Signed checkpoints and the signing keys' public parts, as stored in the audit schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection
from services.audit.log.domain.checkpointing import Cut, LastCheckpoint
from services.audit.log.domain.keyring import PublicKey
from services.audit.tables import checkpoints, signing_keys


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hex: str
    key_id_hex: str
    note: str
    created_at: datetime


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


async def publish_keys(session: AsyncSession, keys: Sequence[PublicKey]) -> None:
    """Records the keyring's public keys; a rotation closes the old key's window."""
    for key in keys:
        statement = upsert(signing_keys).values(
            key_id=key.key_id_hex,
            name=key.name,
            vkey=key.vkey,
            from_size=key.from_size,
            until_size=key.until_size,
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[signing_keys.c.key_id],
                set_={"until_size": statement.excluded.until_size},
            )
        )


async def public_keys(session: AsyncSession) -> list[PublicKey]:
    rows = await session.execute(select(signing_keys).order_by(signing_keys.c.from_size))
    return [PublicKey(r.name, r.key_id, r.vkey, r.from_size, r.until_size) for r in rows]
