"""Delivering an export's directory to a destination: the same bytes on disk every time (a
redelivery never regenerates anything), every attempt recorded, the export DELIVERING while an
attempt runs, then DELIVERED; a failed attempt is retried by the delivery worker with backoff,
and after too many the export is FAILED with the last reason."""

from __future__ import annotations

from datetime import datetime

from runtime.db import Database
from runtime.errors import InvalidArgument
from services.export.domain.exports import Export
from services.export.domain.requests import parse_id
from services.export.repository import deliveries as jobs
from services.export.repository.outbox import Actor
from services.export.service.delivery import state
from services.export.service.delivery.attempt import Attempt, run
from services.export.service.delivery.config import DeliveryConfig


async def deliver(
    db: Database,
    config: DeliveryConfig,
    export_id: str,
    destination_name: str,
    *,
    actor: Actor,
    now: datetime,
) -> Export:
    """Sends a signed export to `destination_name` now; returns the export afterwards. A person
    asking starts the retry count afresh."""
    destination = config.destination_named(destination_name)
    async with db.transaction() as session:
        export = await state.locked(session, parse_id(export_id))
        state.require_signed(export)
        await jobs.lease(session, export.id, destination.name, now + config.retry.lease, now)
        await jobs.set_job(session, export.id, destination.name, failures=0)
        before = await state.start(session, export)
    return await run(db, config, Attempt(export, destination, before), actor=actor, now=now)


async def redeliver(
    db: Database,
    config: DeliveryConfig,
    export_id: str,
    destination_name: str,
    *,
    actor: Actor,
    now: datetime,
) -> Export:
    """deliver() to `destination_name`, or to the export's own destination when it is empty."""
    if not destination_name:
        async with db.transaction() as session:
            destination_name = (await state.locked(session, parse_id(export_id))).destination
        if not destination_name:
            raise InvalidArgument(f"export {export_id} has no destination: name one")
    return await deliver(db, config, export_id, destination_name, actor=actor, now=now)
