"""Verifying many exports at once (VerifyExports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from runtime.db import Database
from runtime.errors import InvalidArgument
from services.export.domain.delivery import Verification
from services.export.repository import exports
from services.export.repository.outbox import Actor
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.verification.fetch_back import verify_delivered

MAX_BATCH = 500


async def verify_batch(
    db: Database,
    config: DeliveryConfig,
    *,
    ids: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    actor: Actor,
    now: datetime,
) -> list[Verification]:
    """verify_delivered for each of `ids` in order, or, when empty, for every signed export
    created in [since, until) oldest first; more than MAX_BATCH is InvalidArgument."""
    chosen = list(ids) or await _signed_between(db, since, until)
    if len(chosen) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} exports per batch; narrow the range")
    return [await verify_delivered(db, config, one, actor=actor, now=now) for one in chosen]


async def _signed_between(
    db: Database, since: datetime | None, until: datetime | None
) -> list[str]:
    async with db.transaction() as session:
        return await exports.signed_between(session, since, until, MAX_BATCH + 1)
