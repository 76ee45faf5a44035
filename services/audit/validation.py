"""Validation of incoming events: one bad event rejects the whole batch, so nothing of it is
written (AppendEvents is all or nothing)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any

from runtime.errors import InvalidArgument
from services.audit.domain import Event

MAX_BATCH = 1000


def validate(events: Sequence[Event]) -> list[Event]:
    """Checks every event and normalises its id; one bad event rejects the whole batch."""
    if len(events) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} events per call, got {len(events)}")
    return [_valid(index, event) for index, event in enumerate(events)]


def _valid(index: int, event: Event) -> Event:
    where = f"events[{index}]"
    try:
        event_id = str(uuid.UUID(event.event_id))
    except ValueError:
        raise InvalidArgument(f"{where}: event_id {event.event_id!r} is not a UUID") from None
    if not event.action.strip():
        raise InvalidArgument(f"{where}: action is required")
    if event.occurred_at.tzinfo is None:
        raise InvalidArgument(f"{where}: occurred_at must carry a time zone")
    _check_payload(where, event.payload_json)
    if any("\x00" in text for text in _texts(event)):
        # Postgres text and jsonb cannot hold NUL.
        raise InvalidArgument(f"{where}: text fields must not contain NUL characters")
    return event if event_id == event.event_id else dataclasses.replace(event, event_id=event_id)


def _check_payload(where: str, payload_json: str | None) -> None:
    try:
        payload = json.loads(payload_json or "", parse_constant=_no_constant)
    except ValueError as exc:
        raise InvalidArgument(f"{where}: payload_json is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidArgument(f"{where}: payload_json must be a JSON object")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _texts(event: Event) -> tuple[str, ...]:
    actor = event.actor
    return (
        *(actor.subject, actor.kind, actor.logic_version, actor.desk, *actor.roles),
        *(event.action, event.target, event.outcome, event.trace_id, event.source),
    )
