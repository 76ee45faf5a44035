"""The log's own health as OpenTelemetry gauges: its size in records, the age of the newest
signed checkpoint, and how many records no checkpoint covers yet. A checkpoint that stops
getting younger means the signer is stuck, and records outside every checkpoint are the ones a
database administrator could still rewrite unseen.

A worker reads them every `period_s` (the one-row head and the newest checkpoint, both by
primary key); the gauges report the latest reading."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from runtime.db import Database
from services.audit.log.repository import checkpoints, head
from services.audit.log.service.tail import Tail

log = logging.getLogger(__name__)


class LogGauges:
    def __init__(self, db: Database, period_s: float = 5.0) -> None:
        self._db, self._period_s = db, period_s
        self.size, self.checkpoint_age_s, self.unsigned = 0, 0.0, 0
        meter = metrics.get_meter("tradeops.audit")
        meter.create_observable_gauge(
            "tradeops.audit.log.size", [self._size], unit="{record}", description="Records"
        )
        meter.create_observable_gauge(
            "tradeops.audit.checkpoint.age",
            [self._age],
            unit="s",
            description="Age of the newest signed checkpoint",
        )
        meter.create_observable_gauge(
            "tradeops.audit.checkpoint.behind",
            [self._behind],
            unit="{record}",
            description="Records not yet covered by a signed checkpoint",
        )

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.warning("could not read the log gauges", exc_info=True)
            await asyncio.sleep(self._period_s)

    async def refresh(self) -> None:
        async with self._db.transaction() as session:
            size = await head.size_or_zero(session)
            signed = await checkpoints.newest_age(session)
        self.size = size
        self.unsigned = self.size - (signed[0] if signed else 0)
        self.checkpoint_age_s = signed[1] if signed else 0.0

    def _size(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.size)

    def _age(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.checkpoint_age_s)

    def _behind(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.unsigned)


def watch_gauges(tail: Tail) -> None:
    """The WatchRecords streams open on this process, and what waits for slow ones."""

    def streams(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(tail.streams())

    def waiting(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(tail.waiting())

    meter = metrics.get_meter("tradeops.audit")
    meter.create_observable_gauge(
        "tradeops.audit.watchers", [streams], "{stream}", "Open WatchRecords streams"
    )
    meter.create_observable_gauge(
        "tradeops.audit.watch_backlog",
        [waiting],
        "{record}",
        "Records (and resyncs) waiting for slow WatchRecords readers, all streams together",
    )
