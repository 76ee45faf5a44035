"""The public parts of the export signing keys (export.signing_keys): recorded when a key is
first used, retired when another key replaces it. The private key never reaches the database."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.exports import now
from services.export.domain.signing import PublicKey, Signer
from services.export.tables import signing_keys


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


async def list_keys(session: AsyncSession) -> list[PublicKey]:
    query = select(signing_keys).order_by(signing_keys.c.created_at.desc())
    rows = (await session.execute(query)).all()
    return [PublicKey(r.key_id, r.pem, r.created_at, r.retired_at) for r in rows]


async def pem_of(session: AsyncSession, key_id: str) -> bytes | None:
    query = select(signing_keys.c.pem).where(signing_keys.c.key_id == key_id)
    pem = (await session.execute(query)).scalar_one_or_none()
    return None if pem is None else str(pem).encode()
