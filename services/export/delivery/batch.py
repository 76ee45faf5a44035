"""Verifying many exports at once (VerifyExports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from runtime.db import Database
from runtime.errors import InvalidArgument
from services.export.delivery.history import Verification
from services.export.delivery.policy import DeliveryConfig
from services.export.delivery.verify import verify_delivered
from services.export.events import Actor
from services.export.tables import exports

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
    query = select(exports.c.id).where(exports.c.manifest_sha256 != "")
    if since is not None:
        query = query.where(exports.c.created_at >= since)
    if until is not None:
        query = query.where(exports.c.created_at < until)
    query = query.order_by(exports.c.created_at, exports.c.id).limit(MAX_BATCH + 1)
    async with db.transaction() as session:
        return [str(found) for found in (await session.execute(query)).scalars()]
