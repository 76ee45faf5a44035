"""Builders of events for the audit tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from runtime.auth import Principal
from services.audit.log.domain.records import Actor, Event

MOMENT = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC)
ALICE = Actor("alice", ("ops",), "person", "", "fx")


def event(
    action: str = "ops.action.approved",
    *,
    event_id: str | None = None,
    target: str = "action/1",
    payload: dict[str, Any] | None = None,
    payload_json: str | None = None,
) -> Event:
    return Event(
        event_id=event_id or str(uuid.uuid4()),
        occurred_at=MOMENT,
        actor=ALICE,
        action=action,
        target=target,
        outcome="success",
        trace_id="",
        source="ops",
        payload_json=payload_json if payload_json is not None else json.dumps(payload or {}),
    )


def events(count: int, **kwargs: Any) -> list[Event]:
    return [event(payload={"n": n}, **kwargs) for n in range(count)]


READER = Principal("vera", frozenset({"viewer"}))
COMPLIANCE_OFFICER = Principal("carol", frozenset({"compliance"}))
