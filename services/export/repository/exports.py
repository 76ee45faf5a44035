"""Rows of export.exports as domain objects: the one write path of the exports table."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.exports import UNFINISHED, Export, ExportFile, ExportState
from services.export.tables import exports

_FIELDS = (
    "kind", "format", "from_seq", "to_seq", "since", "until", "destination", "client_key",
    "file_name", "sha256", "size_bytes", "record_count", "requested_by", "created_at",
    "updated_at", "failure_reason", "checkpoint_size", "checkpoint_root", "checkpoint_file",
    "manifest_sha256", "prev_manifest_sha256", "key_id", "delivered_at", "verified_at",
    "location",
)  # fmt: skip
_UNFINISHED = sorted(state.value for state in UNFINISHED)


class ClientKeyTaken(Exception):
    """Another request of the same requester took the client_key first."""


CLIENT_KEY_INDEX = "ux_exports_client_key"


async def add(session: AsyncSession, export: Export) -> None:
    try:
        await session.execute(insert(exports).values(id=export.id, **_values(export)))
    except IntegrityError as exc:
        # Only that index means "asked twice"; any other broken constraint is a fault to see.
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == CLIENT_KEY_INDEX:
            raise ClientKeyTaken(export.client_key) from exc
        raise


async def save(session: AsyncSession, export: Export) -> None:
    await session.execute(update(exports).where(exports.c.id == export.id).values(_values(export)))


async def get(session: AsyncSession, export_id: str) -> Export | None:
    row = (await session.execute(select(exports).where(exports.c.id == export_id))).first()
    return None if row is None else _export(row)


async def touch(session: AsyncSession, export_id: str, at: datetime) -> None:
    """Marks an unfinished export alive; a finished one is left as it is."""
    await session.execute(
        update(exports)
        .where(exports.c.id == export_id, exports.c.state.in_(_UNFINISHED))
        .values(heartbeat_at=at)
    )


async def locked(session: AsyncSession, export_id: str) -> Export | None:
    """The export as stored, its row locked until the transaction ends (the stale-export
    sweeper may have failed it while its generation ran)."""
    query = select(exports).where(exports.c.id == export_id).with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else _export(row)


async def claim_stale(session: AsyncSession, cutoff: datetime) -> Export | None:
    """Locks one unfinished export with no sign of life since `cutoff`, skipping rows another
    transaction holds. PostgreSQL evaluates the condition again on the row it locks, so a
    heartbeat committed meanwhile takes the row out of the claim."""
    alive = func.greatest(exports.c.updated_at, exports.c.heartbeat_at)  # NULLs are ignored
    query = (
        select(exports)
        .where(exports.c.state.in_(_UNFINISHED), alive < cutoff)
        .order_by(exports.c.updated_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(query)).first()
    return None if row is None else _export(row)


async def by_client_key(session: AsyncSession, requested_by: str, client_key: str) -> Export | None:
    query = select(exports).where(
        exports.c.requested_by == requested_by, exports.c.client_key == client_key
    )
    row = (await session.execute(query)).first()
    return None if row is None else _export(row)


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    state: str = "",
    kind: str = "",
    keyed: tuple[str, str] | None = None,
) -> list[Export]:
    """Newest first, after the (created_at, id) cursor; `keyed` is (requested_by, client_key)."""
    query = select(exports).order_by(exports.c.created_at.desc(), exports.c.id.desc()).limit(limit)
    if state:
        query = query.where(exports.c.state == state)
    if kind:
        query = query.where(exports.c.kind == kind)
    if keyed is not None:
        query = query.where(exports.c.requested_by == keyed[0], exports.c.client_key == keyed[1])
    if after is not None:
        query = query.where(
            (exports.c.created_at < after[0])
            | ((exports.c.created_at == after[0]) & (exports.c.id < after[1]))
        )
    return [_export(row) for row in (await session.execute(query)).all()]


async def signed_between(
    session: AsyncSession, since: datetime | None, until: datetime | None, limit: int
) -> list[str]:
    """Ids of the exports ever signed, created in [since, until), oldest first."""
    query = select(exports.c.id).where(exports.c.manifest_sha256 != "")
    if since is not None:
        query = query.where(exports.c.created_at >= since)
    if until is not None:
        query = query.where(exports.c.created_at < until)
    query = query.order_by(exports.c.created_at, exports.c.id).limit(limit)
    return [str(found) for found in (await session.execute(query)).scalars()]


def _values(export: Export) -> dict[str, Any]:
    return {
        "state": export.state.value,
        "parameters": dict(export.parameters),
        "files": [asdict(f) for f in export.files],
        **{name: getattr(export, name) for name in _FIELDS},
    }


def _export(row: Row[Any]) -> Export:
    return Export(
        id=str(row.id),
        state=ExportState(row.state),
        parameters=dict(row.parameters),
        files=tuple(ExportFile(**f) for f in row.files),
        **{name: getattr(row, name) for name in _FIELDS},
    )
