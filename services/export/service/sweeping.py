"""The stale-export sweeper. An export whose generation stopped without finishing (its process
was killed or lost its database) would stay REQUESTED or GENERATING forever, its staging folder
on disk. Every pass fails each such export whose last sign of life (updated_at, or the heartbeat
its generation writes: service/liveness.py) is older than `stale_after`, with the same export.failed
event as any failure, and removes its files (the staging folder, and whatever the export store
holds under its id). One transaction per export, the row claimed with
FOR UPDATE SKIP LOCKED: replicas sweeping together fail an export once, and a generation that
is still beating is never touched. SIGNED and later states are never looked at."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from runtime.db import Database
from runtime.outbox import automation
from services.export.clients.store import ExportStore, or_directory
from services.export.repository import exports as repository
from services.export.service.failure import discard_files, record_failure

log = logging.getLogger(__name__)
INTERRUPTED = (
    "interrupted: generation stopped without finishing"
    " (process restart or lost database connection)"
)
SWEEPER = automation("export-sweeper", "1")


async def sweep_stale(
    db: Database,
    export_dir: Path,
    now: datetime,
    stale_after: timedelta,
    *,
    batch: int = 20,
    store: ExportStore | None = None,
) -> int:
    """Fails up to `batch` stale exports, one transaction each; returns how many. `store`:
    where exports are kept (none: in `export_dir`)."""
    kept_in, swept = or_directory(store, export_dir), 0
    while swept < batch and await _sweep_one(db, export_dir, kept_in, now - stale_after):
        swept += 1
    return swept


async def _sweep_one(db: Database, export_dir: Path, store: ExportStore, cutoff: datetime) -> bool:
    async with db.transaction() as session:
        export = await repository.claim_stale(session, cutoff)
        if export is None:
            return False
        log.warning("export %s: %s since %s", export.id, INTERRUPTED, export.updated_at)
        await discard_files(export_dir, store, export)
        await record_failure(session, SWEEPER, export, INTERRUPTED, "failure")
    return True
