"""The stale-export sweeper. An export whose generation stopped without finishing (its process
was killed or lost its database) would stay REQUESTED or GENERATING forever, its staging folder
on disk. Every pass fails each such export whose last sign of life (updated_at, or the heartbeat
its generation writes: liveness.py) is older than `stale_after`, with the same export.failed
event as any failure, and removes its files. One transaction per export, the row claimed with
FOR UPDATE SKIP LOCKED: replicas sweeping together fail an export once, and a generation that
is still beating is never touched. SIGNED and later states are never looked at."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from runtime.db import Database
from runtime.grpc_server import Worker
from runtime.outbox import automation
from runtime.settings import SettingsError
from services.export import repository
from services.export.failure import discard_files, record_failure
from services.export.liveness import HEARTBEAT_S

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
INTERRUPTED = (
    "interrupted: generation stopped without finishing"
    " (process restart or lost database connection)"
)
SWEEPER = automation("export-sweeper", "1")
# A live generation beats every HEARTBEAT_S: a threshold this many beats long never catches it.
MIN_BEATS = 3


async def sweep_stale(
    db: Database, export_dir: Path, now: datetime, stale_after: timedelta, *, batch: int = 20
) -> int:
    """Fails up to `batch` stale exports, one transaction each; returns how many."""
    swept = 0
    while swept < batch and await _sweep_one(db, export_dir, now - stale_after):
        swept += 1
    return swept


async def _sweep_one(db: Database, export_dir: Path, cutoff: datetime) -> bool:
    async with db.transaction() as session:
        export = await repository.claim_stale(session, cutoff)
        if export is None:
            return False
        log.warning("export %s: %s since %s", export.id, INTERRUPTED, export.updated_at)
        await discard_files(export_dir, export)
        await record_failure(session, SWEEPER, export, INTERRUPTED, "failure")
    return True


def stale_sweeper(
    db: Database,
    export_dir: Path,
    stale_after_s: float,
    clock: Clock,
    *,
    every_s: float = 30.0,
    on_event: Callable[[], object] = lambda: None,
) -> Worker:
    """The background worker: a pass at start, then one every `every_s` seconds; `on_event`
    runs after a pass failed something (wire it to the outbox relay's wake)."""
    if stale_after_s < MIN_BEATS * HEARTBEAT_S:
        raise SettingsError(
            f"TRADEOPS_EXPORT_STALE_AFTER_S must be at least {MIN_BEATS * HEARTBEAT_S:g}"
            f" ({MIN_BEATS} heartbeats of {HEARTBEAT_S:g} s), not {stale_after_s:g}"
        )
    stale_after = timedelta(seconds=stale_after_s)

    async def loop() -> None:
        while True:
            try:
                swept = await sweep_stale(db, export_dir, clock(), stale_after)
            except Exception:
                log.exception("stale-export sweep failed")
                swept = 0
            if swept:
                on_event()
            else:
                await asyncio.sleep(every_s)

    return loop
