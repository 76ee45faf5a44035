"""Forwarding lag, in records not yet confirmed: the OpenTelemetry gauge `tradeops.siem.lag`
reports what this process's forwarders last saw (service.forwarding.lags reads it from the
cursors)."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Meter, ObservableGauge, Observation

GAUGE = "tradeops.siem.lag"


class LagBoard:
    def __init__(self) -> None:
        self._lags: dict[str, int] = {}

    def set(self, destination: str, lag: int) -> None:
        self._lags[destination] = max(lag, 0)

    def snapshot(self) -> dict[str, int]:
        return dict(self._lags)

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        for destination, lag in self.snapshot().items():
            yield Observation(lag, {"destination": destination})


def register_gauge(board: LagBoard, meter: Meter | None = None) -> ObservableGauge:
    meter = meter or metrics.get_meter("tradeops.audit.siem")
    return meter.create_observable_gauge(
        GAUGE,
        callbacks=[board.observe],
        unit="{record}",
        description="Audit records not yet confirmed delivered to a SIEM destination",
    )
