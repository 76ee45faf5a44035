"""One delivery attempt, already claimed (the export DELIVERING, its job leased): send the files
the export store keeps (read from there, so any replica can send any export), then record the
attempt, the export's new state, the job's next step and an audit event in one transaction.
Verification by fetch-back follows when the job or the configuration asks."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.export.clients.destinations import DeliveryError, Destination
from services.export.clients.store import StoreError
from services.export.domain.delivery import DELIVERED, FAILED, DeliveryAttempt
from services.export.domain.exports import Export, ExportState
from services.export.repository import deliveries as jobs
from services.export.repository import delivery_attempts, outbox
from services.export.repository.outbox import Actor
from services.export.service.delivery import state
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.kept import kept_copy
from services.export.service.verification.fetch_back import verify_delivered

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """An attempt about to run: the export as claimed and the state to return to on failure."""

    export: Export
    destination: Destination
    before: ExportState


async def run(
    db: Database, config: DeliveryConfig, attempt: Attempt, *, actor: Actor, now: datetime
) -> Export:
    """Runs the attempt and records its outcome; returns the export afterwards."""
    result = await _send(db, config, attempt, now)
    async with db.transaction() as session:
        export = await state.locked(session, attempt.export.id)
        await delivery_attempts.add_attempt(session, result, actor)
        job = await jobs.get(session, export.id, result.destination)
        verify = bool(job is not None and job.verify)
        if result.outcome == DELIVERED:
            export = await _succeeded(session, export, result, actor, keep_failures=verify)
        else:
            failures = (job.failures if job is not None else 0) + 1
            export = await _failed(session, config, attempt, export, result, failures, actor, now)
    verify = verify or result.destination in config.verify_after_delivery
    if result.outcome == DELIVERED and verify:
        name = result.destination
        await verify_delivered(db, config, export.id, actor=actor, now=now, destination_name=name)
        async with db.transaction() as session:
            export = await state.locked(session, export.id)
    return export


async def _send(
    db: Database, config: DeliveryConfig, attempt: Attempt, now: datetime
) -> DeliveryAttempt:
    export_id, destination = attempt.export.id, attempt.destination
    sent, detail = 0, ""

    async def send() -> int:
        async with kept_copy(db, config.kept_in, export_id) as files:
            return await destination.put_directory(files, export_id)

    try:
        sent = await asyncio.wait_for(send(), config.attempt_timeout_s)
    except (DeliveryError, StoreError) as exc:
        detail = str(exc)
    except TimeoutError:
        detail = f"timed out after {config.attempt_timeout_s:g} s"
    except Exception as exc:
        log.exception("delivering export %s to %s failed", export_id, destination.name)
        detail = f"{type(exc).__name__}: {exc}"[:500]
    if detail:
        return DeliveryAttempt(export_id, now, destination.name, FAILED, detail, sent)
    location = destination.location(export_id)
    return DeliveryAttempt(export_id, now, destination.name, DELIVERED, location, sent)


async def _succeeded(
    session: AsyncSession,
    export: Export,
    result: DeliveryAttempt,
    actor: Actor,
    *,
    keep_failures: bool,
) -> Export:
    # While a failed verification is being repaired the count goes on until one verifies, so
    # a destination that takes files but garbles them still ends in FAILED.
    job: dict[str, Any] = {"next_attempt_at": None, "last_error": "", "updated_at": result.at}
    if not keep_failures:
        job["failures"] = 0
    await jobs.set_job(session, export.id, result.destination, **job)
    payload = {"destination": result.destination, "location": result.detail, "bytes": result.bytes}
    await outbox.record(session, actor, "export.delivered", export.id, payload)
    return await state.save(session, export.delivered(result.detail))


async def _failed(
    session: AsyncSession,
    config: DeliveryConfig,
    attempt: Attempt,
    export: Export,
    result: DeliveryAttempt,
    failures: int,
    actor: Actor,
    now: datetime,
) -> Export:
    gave_up = failures >= config.retry.max_failures
    retry_at = None if gave_up else now + config.retry.delay(failures)
    await jobs.set_job(
        session,
        export.id,
        result.destination,
        failures=failures,
        next_attempt_at=retry_at,
        last_error=result.detail,
        updated_at=now,
    )
    payload = {
        "destination": result.destination,
        "reason": result.detail,
        "failures": failures,
        "retry_at": None if retry_at is None else retry_at.isoformat(),
    }
    await outbox.record(session, actor, "export.delivery_failed", export.id, payload, "failure")
    if gave_up:
        reason = f"delivery to {result.destination} failed {failures} times; last: {result.detail}"
        return await state.save(session, export.failed(reason))
    return await state.back_to(session, export, attempt.before, now)
