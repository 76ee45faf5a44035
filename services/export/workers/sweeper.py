"""The stale-export sweeper's loop: a sweep (service/sweeping.py) at start, then one every
`every_s` seconds, or at once again while a pass still found stale exports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from runtime.db import Database
from runtime.grpc_server import Worker
from runtime.settings import SettingsError
from services.export.clients.store import ExportStore
from services.export.service.liveness import HEARTBEAT_S
from services.export.service.sweeping import sweep_stale

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# A live generation beats every HEARTBEAT_S: a threshold this many beats long never catches it.
MIN_BEATS = 3


def stale_sweeper(
    db: Database,
    export_dir: Path,
    stale_after_s: float,
    clock: Clock,
    *,
    every_s: float = 30.0,
    on_event: Callable[[], object] = lambda: None,
    store: ExportStore | None = None,
) -> Worker:
    """The background worker: a pass at start, then one every `every_s` seconds; `on_event`
    runs after a pass failed something (wire it to the outbox relay's wake). `store`: where
    exports are kept (none: in `export_dir`)."""
    if stale_after_s < MIN_BEATS * HEARTBEAT_S:
        raise SettingsError(
            f"TRADEOPS_EXPORT_STALE_AFTER_S must be at least {MIN_BEATS * HEARTBEAT_S:g}"
            f" ({MIN_BEATS} heartbeats of {HEARTBEAT_S:g} s), not {stale_after_s:g}"
        )
    stale_after = timedelta(seconds=stale_after_s)

    async def loop() -> None:
        while True:
            try:
                swept = await sweep_stale(db, export_dir, clock(), stale_after, store=store)
            except Exception:
                log.exception("stale-export sweep failed")
                swept = 0
            if swept:
                on_event()
            else:
                await asyncio.sleep(every_s)

    return loop
