"""A known record and checkpoint for the byte-for-byte format tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from services.audit.log.domain.records import Actor, Event, Record
from services.audit.siem.domain.batches import Checkpoint

LEAF = "5f" * 32
EVENT = Event(
    event_id="6d3c1b0e-4a8f-4b1e-9c1d-2f6a7b8c9d0e",
    occurred_at=datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC),
    actor=Actor("alice", ("ops",), "person", "", "fx"),
    action="ops.action.approved",
    target="action/7",
    outcome="success",
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    source="ops",
    payload_json="{}",
)
RECORD = Record(42, EVENT, "a1" * 32, "0" * 64, LEAF)
NOTE = (
    "tradeops.example/audit\n43\nq83vEjRWeJCrze8SNFZ4kA==\n\n\u2014 tradeops.example/audit AbCd\n"
)
CHECKPOINT = Checkpoint(43, "ab" * 32, "0a0b0c0d", NOTE, datetime(2024, 5, 1, 13, 0, tzinfo=UTC))


def record_with(**changes: Any) -> Record:
    return dataclasses.replace(RECORD, event=dataclasses.replace(EVENT, **changes))
