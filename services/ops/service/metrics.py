"""GetMetrics and the metrics gauges: the approval metrics over one window, in one read-only
transaction."""

from __future__ import annotations

from datetime import datetime

from runtime.db import Database
from services.ops.domain.metrics import Metrics
from services.ops.repository.metrics import measure


async def compute(
    db: Database, *, since: datetime | None, until: datetime | None, now: datetime
) -> Metrics:
    """None for since or until: no bound on that side."""
    async with db.transaction() as session:
        return await measure(session, since=since, until=until, now=now)
