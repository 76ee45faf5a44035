"""Running due (re)deliveries: one due job at a time is claimed from export.deliveries with FOR
UPDATE SKIP LOCKED, leased (next_attempt_at pushed `lease_s` ahead) and its export marked
DELIVERING in that claiming transaction, then the attempt runs outside it (an upload may take
minutes; no transaction stays open meanwhile). Any number of replicas may run this: a job is
attempted by one at a time, and one that dies mid-attempt leaves a lease that expires, after
which another attempts it again (at least once, with the same bytes)."""

from __future__ import annotations

from datetime import datetime

from runtime.db import Database
from services.export.clients.destinations import DeliveryError
from services.export.repository import deliveries as jobs
from services.export.service.delivery import state
from services.export.service.delivery.attempt import Attempt, run
from services.export.service.delivery.config import WORKER, DeliveryConfig


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
        export = await state.locked(session, job.export_id)
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
