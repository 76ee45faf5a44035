"""Outbox lag as OpenTelemetry gauges: how many audit events a service has committed but not yet
delivered to the audit service, and the age of the oldest. Both stay near zero while audit is
up; when it is away they grow, and the age says for how long nothing left.

A worker reads them every `period_s` (one query on the outbox's partial index of undelivered
rows); the gauges report the latest reading, so a scrape never waits on the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy import Table, func, select

from runtime.db import Database

log = logging.getLogger(__name__)


class OutboxGauges:
    def __init__(self, db: Database, table: Table, service: str, period_s: float = 5.0) -> None:
        self._db, self._table, self._period_s = db, table, period_s
        self._attributes = {"service": service}
        self.pending, self.oldest_age_s = 0, 0.0
        meter = metrics.get_meter("tradeops.outbox")
        meter.create_observable_gauge(
            "tradeops.outbox.pending",
            [self._pending],
            unit="{event}",
            description="Audit events committed but not yet delivered to the audit service",
        )
        meter.create_observable_gauge(
            "tradeops.outbox.lag",
            [self._lag],
            unit="s",
            description="Age of the oldest undelivered audit event (0 when none wait)",
        )

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.warning("could not read the outbox lag", exc_info=True)
            await asyncio.sleep(self._period_s)

    async def refresh(self) -> None:
        t = self._table
        age = func.extract("epoch", func.now() - func.min(t.c.created_at))
        query = select(func.count(), func.coalesce(age, 0)).where(t.c.delivered_at.is_(None))
        async with self._db.transaction() as session:
            pending, oldest = (await session.execute(query)).one()
        self.pending, self.oldest_age_s = int(pending), float(oldest)

    def _pending(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.pending, self._attributes)

    def _lag(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.oldest_age_s, self._attributes)
