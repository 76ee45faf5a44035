"""The approval metrics as OpenTelemetry instruments: a worker recomputes them over all time
every `period_s` and observable gauges report the latest snapshot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from runtime.db import Database
from services.ops.domain.actions import Clock
from services.ops.domain.metrics import Metrics
from services.ops.service.metrics import compute

log = logging.getLogger(__name__)


class MetricsGauges:
    def __init__(
        self, db: Database, clock: Clock, period_s: float = 30.0, meter: Meter | None = None
    ) -> None:
        self._db, self._clock, self._period_s = db, clock, period_s
        self.snapshot = Metrics()
        meter = meter or metrics.get_meter("tradeops.ops")
        meter.create_observable_gauge("tradeops.ops.actions", [self._states], unit="{action}")
        meter.create_observable_gauge("tradeops.ops.backlog", [self._backlog], unit="{action}")
        meter.create_observable_gauge("tradeops.ops.mtta", [self._mtta], unit="s")
        meter.create_observable_gauge(
            "tradeops.ops.approval_latency", [self._approval_latency], unit="s"
        )

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("could not compute ops metrics")
            await asyncio.sleep(self._period_s)

    async def refresh(self) -> None:
        self.snapshot = await compute(self._db, since=None, until=None, now=self._clock())

    def _states(self, options: CallbackOptions) -> Iterable[Observation]:
        for state, count in self.snapshot.counts_by_state.items():
            yield Observation(count, {"state": state})

    def _backlog(self, options: CallbackOptions) -> Iterable[Observation]:
        for from_s, count in self.snapshot.backlog:
            yield Observation(count, {"age_from_s": from_s})

    def _mtta(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.snapshot.mtta_s)

    def _approval_latency(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self.snapshot.approval_latency_s)
