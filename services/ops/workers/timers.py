"""The timer worker, started by the process's __main__: fires due timers
(services.ops.service.timers) in a loop, and wakes the outbox relay and the notification
delivery after each batch that fired something."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from runtime.db import Database
from runtime.grpc_server import Worker
from services.ops.domain.actions import Clock
from services.ops.service.timers import default_effects, fire_due

log = logging.getLogger(__name__)


def timer_worker(
    db: Database,
    clock: Clock,
    notifier: Callable[[], object],
    *,
    poll_s: float = 0.5,
    batch: int = 50,
) -> Worker:
    """A background worker firing due timers; `notifier` runs after a batch committed (it wakes
    the outbox relay and the notification delivery)."""
    effects, me = default_effects(), f"{socket.gethostname()}:{id(db):x}"

    async def run() -> None:
        while True:
            try:
                fired = await fire_due(db, clock(), effects, batch=batch, by=me)
            except Exception:
                log.exception("timer pass failed")
                fired = 0
            if fired:
                notifier()
            else:
                await asyncio.sleep(poll_s)

    return run
