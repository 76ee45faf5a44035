"""Delivery, verification by fetch-back and automatic redelivery of exports.

Use cases (called by the servicer and by export creation):
- `deliver(db, config, export_id, destination_name, *, actor, now) -> Export`
- `redeliver(db, config, export_id, destination_name, *, actor, now) -> Export` (empty name: the
  export's own destination); both resend the signed directory already on disk, never regenerate.
- `verify_delivered(db, config, export_id, *, actor, now, destination_name=None) -> Verification`
- `verify_batch(db, config, *, ids=(), since=None, until=None, actor, now) -> list[Verification]`
- `list_attempts(db, export_id) -> list[DeliveryAttempt]`
Background: `delivery_worker(db, config, clock) -> Worker` runs due retries.

Every attempt is a row in export.delivery_attempts and an audit event ("export.delivered" /
"export.delivery_failed"); every verification a row in export.verifications and an event
("export.verified" / "export.verification_failed"). While an attempt runs the export is
DELIVERING; success makes it DELIVERED; a failure returns it to the state it had (SIGNED, or
DELIVERED/VERIFIED when an older intact copy is still there) and schedules a retry with
exponential backoff and jitter; after RetryPolicy.max_failures it is FAILED with the reason."""

from __future__ import annotations

from runtime.db import Database
from runtime.errors import NotFound
from services.export import repository
from services.export.delivery.batch import verify_batch
from services.export.delivery.history import DeliveryAttempt, Verification, attempts
from services.export.delivery.policy import WORKER, DeliveryConfig, RetryPolicy
from services.export.delivery.send import deliver, redeliver
from services.export.delivery.verify import verify_delivered
from services.export.delivery.worker import delivery_worker, run_due
from services.export.events import Actor
from services.export.requests import parse_id

__all__ = [
    "WORKER",
    "Actor",
    "DeliveryAttempt",
    "DeliveryConfig",
    "RetryPolicy",
    "Verification",
    "deliver",
    "delivery_worker",
    "list_attempts",
    "redeliver",
    "run_due",
    "verify_batch",
    "verify_delivered",
]


async def list_attempts(db: Database, export_id: str) -> list[DeliveryAttempt]:
    """Every delivery attempt of the export, oldest first; NotFound for an unknown export."""
    async with db.transaction() as session:
        export = await repository.get(session, parse_id(export_id))
        if export is None:
            raise NotFound(f"no export {export_id}")
        return await attempts(session, export.id)
