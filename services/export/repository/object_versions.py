"""The S3 object versions of sealed exports (export.object_versions): written once, with the
manifest, and read before every fetch from the store."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.tables import object_versions


async def add_versions(session: AsyncSession, export_id: str, versions: Mapping[str, str]) -> None:
    if versions:
        rows = [{"export_id": export_id, "name": n, "version_id": v} for n, v in versions.items()]
        await session.execute(insert(object_versions), rows)


async def versions_of(session: AsyncSession, export_id: str) -> dict[str, str]:
    query = select(object_versions.c.name, object_versions.c.version_id).where(
        object_versions.c.export_id == export_id
    )
    return {row.name: row.version_id for row in await session.execute(query)}
