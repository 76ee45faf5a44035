"""Rows of export.exports to Export objects and back; the only module that knows the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain import Export, ExportState
from services.export.tables import exports

_FIELDS = (
    "kind",
    "from_seq",
    "to_seq",
    "file_name",
    "sha256",
    "size_bytes",
    "record_count",
    "requested_by",
    "created_at",
    "updated_at",
    "failure_reason",
    "checkpoint_size",
    "checkpoint_root",
    "checkpoint_file",
)


async def add(session: AsyncSession, export: Export) -> None:
    await session.execute(insert(exports).values(id=export.id, **_values(export)))


async def save(session: AsyncSession, export: Export) -> None:
    await session.execute(update(exports).where(exports.c.id == export.id).values(_values(export)))


async def get(session: AsyncSession, export_id: str) -> Export | None:
    row = (await session.execute(select(exports).where(exports.c.id == export_id))).first()
    return None if row is None else _export(row)


async def newest(session: AsyncSession, limit: int) -> list[Export]:
    query = select(exports).order_by(exports.c.created_at.desc(), exports.c.id.desc()).limit(limit)
    return [_export(row) for row in (await session.execute(query)).all()]


def _values(export: Export) -> dict[str, Any]:
    return {"state": export.state.value, **{name: getattr(export, name) for name in _FIELDS}}


def _export(row: Row[Any]) -> Export:
    return Export(
        id=str(row.id),
        state=ExportState(row.state),
        **{name: getattr(row, name) for name in _FIELDS},
    )
