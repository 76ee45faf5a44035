"""Marking an export FAILED, in one shape whoever finds the failure (the generation itself or
the stale-export sweeper): its files removed, then the FAILED row and its export.failed event
in one transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.exports import Export
from services.export.repository import exports as repository
from services.export.repository import outbox
from services.export.service.files import remove_tree


async def discard_files(export_dir: Path, export: Export) -> None:
    # Also removes a published directory: files whose manifest was never recorded must go.
    for directory in (export.staging, export.directory):
        await asyncio.to_thread(remove_tree, export_dir / directory)


async def record_failure(
    session: AsyncSession, actor: outbox.Actor, export: Export, reason: str, outcome: str
) -> Export:
    failed = export.failed(reason)
    await repository.save(session, failed)
    payload = {**outbox.request_payload(failed), "reason": reason}
    await outbox.emit(session, actor, "export.failed", failed, payload, outcome)
    return failed
