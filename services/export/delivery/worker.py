"""The delivery worker: claims one due job at a time from export.deliveries with FOR UPDATE
SKIP LOCKED, leases it (next_attempt_at pushed `lease_s` ahead) and marks the export DELIVERING
in that claiming transaction, then runs the attempt outside it (an upload may take minutes; no
transaction stays open meanwhile). Any number of replicas may run it: a job is attempted by one
worker at a time, and a worker that dies mid-attempt leaves a lease that expires, after which
another worker attempts it again (at least once, with the same bytes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from runtime.db import Database
from runtime.grpc_server import Worker
from services.export.delivery import jobs, state
from services.export.delivery.attempt import Attempt, run
from services.export.delivery.policy import WORKER, DeliveryConfig
from services.export.destinations import DeliveryError

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


async def run_due(db: Database, config: DeliveryConfig, now: datetime, *, batch: int = 20) -> int:
    """Runs up to `batch` due jobs, one after the other; returns how many."""
    done = 0
    while done < batch and (attempt := await _claim(db, config, now)) is not None:
        await run(db, config, attempt, actor=WORKER, now=now)
        done += 1
    return done


async def _claim(db: Database, config: DeliveryConfig, now: datetime) -> Attempt | None:
    async with db.transaction() as session:
        job = await jobs.claim_due(session, now)
        if job is None:
            return None
        await jobs.lease(session, job.export_id, job.destination, now + config.retry.lease, now)
        export = await state.locked(session, str(job.export_id))
        before = await state.start(session, export)
    destination = config.destinations.get(job.destination) or _Gone(job.destination)
    return Attempt(export, destination, before)


class _Gone:
    """A destination removed from the configuration since the job was made: each attempt fails
    (and is recorded) until the job gives up, rather than vanishing silently."""

    def __init__(self, name: str) -> None:
        self.name = name

    def location(self, export_id: str) -> str:
        return ""

    async def put_directory(self, local_dir: object, export_id: str) -> int:
        raise DeliveryError(f"destination {self.name} is no longer configured")

    async def fetch_directory(self, export_id: str, into: object) -> None:
        raise DeliveryError(f"destination {self.name} is no longer configured")


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
