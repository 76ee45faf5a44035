"""Reading and moving the export itself, under its row lock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.errors import Conflict, NotFound
from services.export.domain.exports import Export, ExportState
from services.export.repository import exports as repository

# States an attempt that did not succeed returns the export to: the last copy delivered is
# still intact at the destination (uploads are swapped in whole), so its state stays true.
_KEEP = frozenset({ExportState.SIGNED, ExportState.DELIVERED, ExportState.VERIFIED})


async def locked(session: AsyncSession, export_id: str) -> Export:
    export = await repository.locked(session, export_id)
    if export is None:
        raise NotFound(f"no export {export_id}")
    return export


def require_signed(export: Export) -> None:
    """Only a sealed directory (manifest signed) may leave the service or be verified."""
    if not export.manifest_sha256:
        raise Conflict(
            f"export {export.id} was never signed ({export.state.value}): nothing to send"
        )


async def start(session: AsyncSession, export: Export) -> ExportState:
    """Marks the export DELIVERING; returns the state to go back to if the attempt fails."""
    before = export.state if export.state in _KEEP | {ExportState.FAILED} else ExportState.SIGNED
    await repository.save(session, export.delivering())
    return before


async def back_to(
    session: AsyncSession, export: Export, before: ExportState, now: datetime
) -> Export:
    """After a failed attempt that will be retried. An export another call moved on since is
    left as that call left it."""
    if export.state is not ExportState.DELIVERING:
        return export
    restored = replace(export, state=before, updated_at=now)
    await repository.save(session, restored)
    return restored


async def save(session: AsyncSession, export: Export) -> Export:
    await repository.save(session, export)
    return export
