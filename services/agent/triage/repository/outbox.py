"""The one write path of the agent's outbox, for every context of the agent (through triage's
surface): `record` writes one audit event, `record_events` a batch in one INSERT, the rows
runtime.outbox.record_event writes (built by the same runtime.outbox.event_body): TriageBatch
writes two events per incident, and one statement each would cost more than the triage itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.outbox import event_body, record_event
from runtime.telemetry import current_trace_id, current_traceparent
from services.agent.tables import outbox

SOURCE = "agent"


async def record(
    session: AsyncSession,
    actor: dict[str, Any],
    action: str,
    target: str,
    payload: dict[str, Any],
    *,
    outcome: str = "success",
) -> None:
    """One event in the caller's transaction."""
    await record_event(
        session,
        outbox,
        source=SOURCE,
        actor=actor,
        action=action,
        target=target,
        payload=payload,
        outcome=outcome,
    )


@dataclass(frozen=True)
class Event:
    actor: dict[str, Any]
    action: str
    target: str
    payload: dict[str, Any]
    outcome: str = "success"
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


async def record_events(session: AsyncSession, events: Sequence[Event], now: datetime) -> None:
    if not events:
        return
    trace_id, traceparent = current_trace_id(), current_traceparent()
    await session.execute(
        insert(outbox), [outbox_row(e, now, trace_id, traceparent) for e in events]
    )


def outbox_row(event: Event, now: datetime, trace_id: str, traceparent: str) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event": _event(event, now, trace_id),
        "traceparent": traceparent,
    }


def _event(event: Event, now: datetime, trace_id: str) -> dict[str, Any]:
    return event_body(
        event_id=event.event_id,
        occurred_at=now,
        source=SOURCE,
        actor=event.actor,
        action=event.action,
        target=event.target,
        payload=event.payload,
        outcome=event.outcome,
        trace_id=trace_id,
    )
