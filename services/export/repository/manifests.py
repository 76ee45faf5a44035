"""The manifest chain (export.manifests): signed manifests in signing order, each naming its
predecessor's hash; the chain is locked while a manifest is added, so replicas link them in
order."""

from __future__ import annotations

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.exports import Export
from services.export.tables import manifests

# Any constant serves: it only has to be the same for every replica signing manifests.
_CHAIN_LOCK = 0x6578706F7274


async def chain_head(session: AsyncSession) -> tuple[int, str]:
    """Locks the manifest chain until the transaction ends; returns (next position, last hash)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    query = select(manifests.c.position, manifests.c.sha256).order_by(manifests.c.position.desc())
    row = (await session.execute(query.limit(1))).first()
    return (0, "") if row is None else (row.position + 1, row.sha256)


async def add_manifest(session: AsyncSession, position: int, export: Export, body: bytes) -> None:
    await session.execute(
        insert(manifests).values(
            position=position,
            export_id=export.id,
            sha256=export.manifest_sha256,
            prev_sha256=export.prev_manifest_sha256,
            body=body,
            created_at=export.updated_at,
        )
    )


async def manifest_body(session: AsyncSession, sha256: str) -> bytes | None:
    query = select(manifests.c.body).where(manifests.c.sha256 == sha256)
    body = (await session.execute(query)).scalar_one_or_none()
    return None if body is None else bytes(body)


async def body_of_export(session: AsyncSession, export_id: str) -> bytes | None:
    query = select(manifests.c.body).where(manifests.c.export_id == export_id)
    body = (await session.execute(query)).scalar_one_or_none()
    return None if body is None else bytes(body)
