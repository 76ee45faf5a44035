"""Probe definitions, an admin, a settable clock and outbox reads for the probe tests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from services.agent.probes.domain.probes import IncidentTemplate, Probe, ProbeSpec, Reading, Rule
from services.agent.probes.service import probes as service
from services.agent.tables import outbox

ADMIN = Principal("ada", frozenset({"admin"}))
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def latency_probe(url: str, **changes: Any) -> ProbeSpec:
    """Fails when the feed's lag is above 500 ms."""
    spec = ProbeSpec(
        name="md-latency",
        url=f"{url}/health",
        reading=Reading("json", path="$.lag_ms"),
        rule=Rule("threshold", op=">", value=500),
        interval_s=30,
        timeout_s=1.0,
        incident=IncidentTemplate(
            kind="market_data_latency",
            desk="equities",
            subject="XNAS-ITCH",
            summary="Feed lag {value} ms seen by {probe} v{version}",
            metrics={"threshold_ms": 500},
            value_metric="lag_ms",
        ),
    )
    return replace(spec, **changes)


async def put(db: Database, spec: ProbeSpec, clock: Clock, probe_id: str = "") -> Probe:
    return await service.put_probe(db, spec, probe_id=probe_id, caller=ADMIN, clock=clock)


async def events(db: Database, prefix: str = "") -> list[dict[str, Any]]:
    """The agent outbox's events (action, target, actor, payload), oldest first."""
    async with db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        found = [dict(row.event) for row in rows]
    for event in found:
        event["payload"] = json.loads(event["payload_json"])
    return [e for e in found if e["action"].startswith(prefix)]
