"""The public parts of the checkpoint signing keys, as stored in audit.signing_keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.keyring import PublicKey
from services.audit.tables import signing_keys


async def publish(session: AsyncSession, keys: Sequence[PublicKey]) -> None:
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
