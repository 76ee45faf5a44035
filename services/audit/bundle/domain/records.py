"""records.jsonl: one canonical JSON object per record, read back one line at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.canonical import canonical_json
from services.audit.bundle.domain.layout import RECORDS, BundleFailure
from services.audit.log import Actor, Event, Record, rfc3339


@dataclass(frozen=True)
class Line:
    number: int
    record: Record
    # The payload text was removed by a recorded redaction; payload_sha256 still stands.
    redacted: bool


def record_line(record: Record) -> str:
    event = record.event
    fields: dict[str, Any] = {
        "seq": record.seq,
        "event_id": event.event_id,
        "occurred_at": rfc3339(event.occurred_at),
        "actor": event.actor.as_dict(),
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "trace_id": event.trace_id,
        "source": event.source,
        "payload_json": event.payload_json or "",
        "payload_sha256": record.payload_sha256,
        "prev_hash": record.prev_hash,
        "leaf_hash": record.leaf_hash,
    }
    if not event.payload_json:
        fields["redacted"] = True
    return canonical_json(fields) + "\n"


def read_lines(folder: Path) -> Iterator[Line]:
    """The records in file order; a line that is not a record fails, naming the seq expected."""
    expected = 0
    with (folder / RECORDS).open(encoding="utf-8", newline="\n") as lines:
        for number, text in enumerate(lines, start=1):
            line = _parse(number, text, expected)
            expected = line.record.seq + 1
            yield line


def _parse(number: int, text: str, expected: int) -> Line:
    where = f"{RECORDS} line {number}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        if not text.endswith("\n"):
            raise BundleFailure(f"{where} is cut short (the file is truncated)", expected) from None
        raise BundleFailure(f"{where} is not valid JSON", expected) from None
    try:
        return Line(number, _record(raw), raw.get("redacted") is True)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BundleFailure(f"{where} is not a record ({exc!r})", expected) from None


def _record(raw: dict[str, Any]) -> Record:
    if type(raw["seq"]) is not int:
        raise TypeError("seq must be an integer")
    redacted = raw.get("redacted") is True
    event = Event(
        event_id=str(raw["event_id"]),
        occurred_at=datetime.fromisoformat(raw["occurred_at"]),
        actor=_actor(raw["actor"]),
        action=str(raw["action"]),
        target=str(raw["target"]),
        outcome=str(raw["outcome"]),
        trace_id=str(raw["trace_id"]),
        source=str(raw["source"]),
        payload_json=None if redacted else str(raw["payload_json"]),
    )
    hashes = (str(raw["payload_sha256"]), str(raw["prev_hash"]), str(raw["leaf_hash"]))
    return Record(raw["seq"], event, *hashes)


def _actor(raw: dict[str, Any]) -> Actor:
    roles = tuple(str(role) for role in raw["roles"])
    fields = (raw["subject"], raw["kind"], raw["logic_version"], raw["desk"])
    subject, kind, logic_version, desk = (str(value) for value in fields)
    return Actor(subject, roles, kind, logic_version, desk)
