"""The delivery worker: runs due (re)deliveries (service/delivery/retries.py) in a loop, and
sleeps `poll_s` whenever a pass found nothing due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from runtime.db import Database
from runtime.grpc_server import Worker
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.retries import run_due

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def delivery_worker(
    db: Database,
    config: DeliveryConfig,
    clock: Clock,
    *,
    poll_s: float = 1.0,
    on_event: Callable[[], object] = lambda: None,
) -> Worker:
    """A background worker running due (re)deliveries; `on_event` runs after work was done
    (wire it to the outbox relay's wake)."""

    async def loop() -> None:
        while True:
            try:
                done = await run_due(db, config, clock())
            except Exception:
                log.exception("delivery pass failed")
                done = 0
            if done:
                on_event()
            else:
                await asyncio.sleep(poll_s)

    return loop
