"""The schedule worker: runs due schedules (service/schedules/runs.py, which holds the claiming
and catch-up policy) in a loop, sleeping `poll_s` whenever nothing was due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from runtime.db import Database
from runtime.grpc_server import Worker
from services.export.service.schedules.runs import CreateExport, run_due_schedules

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def schedule_worker(
    db: Database, create_export: CreateExport, clock: Clock, *, poll_s: float = 5.0
) -> Worker:
    """The background worker running due schedules; `create_export` turns a ScheduledRun into
    an export (idempotent on run.client_key for run.requested_by)."""

    async def loop() -> None:
        while True:
            try:
                ran = await run_due_schedules(db, create_export, clock())
            except Exception:
                log.exception("schedule pass failed")
                ran = 0
            if not ran:
                await asyncio.sleep(poll_s)

    return loop
