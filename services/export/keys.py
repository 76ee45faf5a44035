"""The public parts of the export signing keys: recorded when a key is first used, retired when
another key replaces it. The private key never reaches the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.export.domain import now
from services.export.signing import Signer
from services.export.tables import signing_keys


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    pem: str
    created_at: datetime
    retired_at: datetime | None


async def register(session: AsyncSession, signer: Signer) -> None:
    """Records the signer's public key if new, retiring every other current key."""
    at = now()
    added = await session.execute(
        insert(signing_keys)
        .values(key_id=signer.key_id, pem=signer.public_pem.decode(), created_at=at)
        .on_conflict_do_nothing()
        .returning(signing_keys.c.key_id)
    )
    if added.first() is not None:
        await session.execute(
            update(signing_keys)
            .where(signing_keys.c.key_id != signer.key_id, signing_keys.c.retired_at.is_(None))
            .values(retired_at=at)
        )


async def list_keys(db: Database) -> list[PublicKey]:
    query = select(signing_keys).order_by(signing_keys.c.created_at.desc())
    async with db.transaction() as session:
        rows = (await session.execute(query)).all()
    return [PublicKey(r.key_id, r.pem, r.created_at, r.retired_at) for r in rows]


async def pem_of(session: AsyncSession, key_id: str) -> bytes | None:
    query = select(signing_keys.c.pem).where(signing_keys.c.key_id == key_id)
    pem = (await session.execute(query)).scalar_one_or_none()
    return None if pem is None else str(pem).encode()
