"""A generation's sign of life: while it runs, a task beside it moves its row's heartbeat_at
forward every `every_s` seconds, so the stale-export sweep (service/sweeping.py) can tell a
generation whose process died or lost its database from one still running. A beat that cannot
be written is logged and tried again at the next one: it never stops the generation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from runtime.db import Database
from services.export.domain.exports import now
from services.export.repository import exports as repository

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0


@asynccontextmanager
async def heartbeat(db: Database, export_id: str, every_s: float) -> AsyncIterator[None]:
    beating = asyncio.create_task(_beat(db, export_id, every_s), name=f"heartbeat {export_id}")
    try:
        yield
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating


async def _beat(db: Database, export_id: str, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            async with db.transaction() as session:
                await repository.touch(session, export_id, now())
        except Exception as exc:
            log.warning("export %s: could not record its heartbeat: %s", export_id, exc)
