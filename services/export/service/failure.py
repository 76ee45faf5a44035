"""Marking an export FAILED, in one shape whoever finds the failure (the generation itself or
the stale-export sweeper): its files removed, then the FAILED row and its export.failed event
in one transaction. A store that cannot be reached does not stop the failure being recorded."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.export.clients.store import ExportStore, StoreError
from services.export.clients.store.directory import remove_tree
from services.export.domain.exports import Export
from services.export.repository import exports as repository
from services.export.repository import outbox

log = logging.getLogger(__name__)


async def discard_files(export_dir: Path, store: ExportStore, export: Export) -> None:
    """Removes the staging directory in `export_dir` and, from the store, anything published
    under the export's id, as far as the store allows (an S3 bucket keeps them, locked and
    unread: no version of them is recorded)."""
    await asyncio.to_thread(remove_tree, export_dir / export.staging)
    try:
        await store.discard(export.id)
    except StoreError as exc:
        log.warning("export %s: its published files stay: %s", export.id, exc)


async def record_failure(
    session: AsyncSession, actor: outbox.Actor, export: Export, reason: str, outcome: str
) -> Export:
    failed = export.failed(reason)
    await repository.save(session, failed)
    payload = {**outbox.request_payload(failed), "reason": reason}
    await outbox.emit(session, actor, "export.failed", failed, payload, outcome)
    return failed
