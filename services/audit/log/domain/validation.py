"""Validation of incoming events: one bad event rejects the whole batch, so nothing of it is
written (AppendEvents is all or nothing)."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from runtime.errors import InvalidArgument
from services.audit.log.domain.records import Event

MAX_BATCH = 1000
# An id already in canonical form (what producers send) needs no parse-and-format round trip.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def validate(events: Sequence[Event]) -> list[Event]:
    """Checks every event and normalises its id; one bad event rejects the whole batch."""
    if len(events) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} events per call, got {len(events)}")
    return [_valid(index, event) for index, event in enumerate(events)]


def _valid(index: int, event: Event) -> Event:
    where = f"events[{index}]"
    event_id = _event_id(where, event.event_id)
    if not event.action.strip():
        raise InvalidArgument(f"{where}: action is required")
    if event.occurred_at.tzinfo is None:
        raise InvalidArgument(f"{where}: occurred_at must carry a time zone")
    _check_payload(where, event.payload_json)
    if any("\x00" in text for text in _texts(event)):
        # Postgres text and jsonb cannot hold NUL.
        raise InvalidArgument(f"{where}: text fields must not contain NUL characters")
    return event if event_id == event.event_id else dataclasses.replace(event, event_id=event_id)


def _event_id(where: str, given: str) -> str:
    if _CANONICAL_UUID.fullmatch(given):
        return given
    try:
        return str(uuid.UUID(given))
    except ValueError:
        raise InvalidArgument(f"{where}: event_id {given!r} is not a UUID") from None


def _check_payload(where: str, payload_json: str | None) -> None:
    try:
        payload = _decode(payload_json or "")
    except ValueError as exc:
        raise InvalidArgument(f"{where}: payload_json is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidArgument(f"{where}: payload_json must be a JSON object")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with any keyword builds a new decoder per call, several times the parse.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _decode(text: str) -> Any:
    if text.startswith("\ufeff"):  # as json.loads: a byte order mark is not JSON
        raise ValueError("Unexpected UTF-8 BOM")
    return _DECODER.decode(text)


def _texts(event: Event) -> tuple[str, ...]:
    actor = event.actor
    return (
        *(actor.subject, actor.kind, actor.logic_version, actor.desk, *actor.roles),
        *(event.action, event.target, event.outcome, event.trace_id, event.source),
    )
