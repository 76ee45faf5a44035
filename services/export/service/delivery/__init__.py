"""Delivery, verification by fetch-back and automatic redelivery of exports.

Use cases (called by the servicer and by export creation):
- `deliver(db, config, export_id, destination_name, *, actor, now) -> Export`
- `redeliver(db, config, export_id, destination_name, *, actor, now) -> Export` (empty name: the
  export's own destination); both resend the signed directory already on disk, never regenerate.
- `verify_delivered(db, config, export_id, *, actor, now, destination_name=None) -> Verification`
- `verify_batch(db, config, *, ids=(), since=None, until=None, actor, now) -> list[Verification]`
- `list_attempts(db, export_id) -> list[DeliveryAttempt]`
`run_due(db, config, now)` runs due retries (workers/delivery.py runs it in the background).

Every attempt is a row in export.delivery_attempts and an audit event ("export.delivered" /
"export.delivery_failed"); every verification a row in export.verifications and an event
("export.verified" / "export.verification_failed"). While an attempt runs the export is
DELIVERING; success makes it DELIVERED; a failure returns it to the state it had (SIGNED, or
DELIVERED/VERIFIED when an older intact copy is still there) and schedules a retry with
exponential backoff and jitter; after RetryPolicy.max_failures it is FAILED with the reason."""

from __future__ import annotations

from runtime.db import Database
from runtime.errors import NotFound
from services.export.domain.delivery import DeliveryAttempt, RetryPolicy, Verification
from services.export.domain.requests import parse_id
from services.export.repository import exports as repository
from services.export.repository.delivery_attempts import attempts
from services.export.repository.events import Actor
from services.export.service.delivery.batch import verify_batch
from services.export.service.delivery.config import WORKER, DeliveryConfig
from services.export.service.delivery.retries import run_due
from services.export.service.delivery.send import deliver, redeliver
from services.export.service.delivery.verify import verify_delivered

__all__ = [
    "WORKER",
    "Actor",
    "DeliveryAttempt",
    "DeliveryConfig",
    "RetryPolicy",
    "Verification",
    "deliver",
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
