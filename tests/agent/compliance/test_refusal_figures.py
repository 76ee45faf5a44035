"""Denied figures count refusals, not records: a flood aggregated into one record (issue 16,
item 8) still weighs in the summary with every refusal it stands for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.agent.compliance.domain.figures import RecordView, compute
from services.agent.compliance.domain.hours import DeskHours
from services.agent.compliance.domain.spikes import SpikeRule

NOON = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _denied(seq: int, actor: str, action: str, payload: dict[str, object]) -> RecordView:
    return RecordView(seq, NOON, actor, "person", action, "denied", json.dumps(payload))


def test_aggregated_overflow_and_dropped_records_count_every_refusal_they_stand_for() -> None:
    records = [
        _denied(0, "mallory", "gateway.access.denied", {"path": "/exports"}),
        _denied(1, "mallory", "gateway.access.denied.aggregated", {"count": 999}),
        _denied(2, "anonymous", "ops.access.denied.overflow", {"count": 40}),
        _denied(3, "svc:gateway", "gateway.access.denied.dropped", {"dropped": 7}),
        _denied(4, "eve", "ops.access.denied.aggregated", {"count": "lots"}),  # malformed: one
        _denied(5, "eve", "ops.access.denied.aggregated", {}),
    ]
    figures = compute(
        records,
        [],
        since=NOON - timedelta(hours=1),
        until=NOON + timedelta(hours=1),
        hours=DeskHours(),
        rule=SpikeRule(),
    )
    assert figures.record_count == 6
    assert figures.denied == 1 + 999 + 40 + 7 + 1 + 1
    assert figures.denied_by_actor == [
        ("mallory", 1000),
        ("anonymous", 40),
        ("svc:gateway", 7),
        ("eve", 2),
    ]
