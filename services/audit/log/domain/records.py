"""The audit log's record model: the canonical encoding that `hash` covers (specified on
AuditRecord in audit_service.proto) and sequencing. Pure: no grpc, no SQLAlchemy. Validation
lives in validation.py, chain verification in verification.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from runtime.canonical import canonical_json, sha256_hex

GENESIS = "0" * 64
_ZERO = timedelta(0)
_RFC3339 = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
# How canonical_json (ensure_ascii=False) writes a string.
_text = json.encoder.encode_basestring


@dataclass(frozen=True)
class Actor:
    subject: str
    roles: tuple[str, ...]
    kind: str
    logic_version: str = ""
    desk: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "roles": list(self.roles),
            "kind": self.kind,
            "logic_version": self.logic_version,
            "desk": self.desk,
        }

    @cached_property
    def canonical(self) -> str:
        """canonical_json(as_dict()), computed once: sealing and storing both need it."""
        return canonical_json(self.as_dict())


@dataclass(frozen=True)
class Event:
    event_id: str
    occurred_at: datetime
    actor: Actor
    action: str
    target: str
    outcome: str
    trace_id: str
    source: str
    # None only when a stored payload is missing (reserved for redaction).
    payload_json: str | None


@dataclass(frozen=True)
class Record:
    seq: int
    event: Event
    payload_sha256: str
    prev_hash: str
    leaf_hash: str
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Head:
    size: int
    last_hash: str


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    seq: int
    duplicate: bool


@dataclass(frozen=True)
class Batch:
    records: list[Record]
    results: list[AppendResult]
    head: Head


def rfc3339(moment: datetime) -> str:
    """UTC, always six fractional digits, "Z": 2024-05-01T12:00:00.000000Z."""
    if moment.tzinfo is not UTC and moment.utcoffset() != _ZERO:
        moment = moment.astimezone(UTC)
    # Spelt out: replace() and isoformat(timespec=...) cost several times this per record.
    return _RFC3339 % (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def payload_sha256(payload_json: str) -> str:
    return sha256_hex(payload_json)


def canonical_record(seq: int, event: Event, payload_hash: str, prev_hash: str) -> str:
    """canonical_json of the record's fields, spelt out in sorted key order so the actor's
    encoding is reused (the sequencer's hot path); test_domain checks both agree."""
    text = _text
    return (
        f'{{"action":{text(event.action)},"actor":{event.actor.canonical},'
        f'"event_id":{text(event.event_id)},"occurred_at":"{rfc3339(event.occurred_at)}",'
        f'"outcome":{text(event.outcome)},"payload_sha256":{text(payload_hash)},'
        f'"prev_hash":{text(prev_hash)},"seq":{int(seq)},"source":{text(event.source)},'
        f'"target":{text(event.target)},"trace_id":{text(event.trace_id)}}}'
    )


def record_hash(seq: int, event: Event, payload_hash: str, prev_hash: str) -> str:
    """The record's RFC 6962 leaf hash: SHA-256(0x00 || canonical encoding), hex."""
    encoded = canonical_record(seq, event, payload_hash, prev_hash).encode("utf-8")
    return hashlib.sha256(b"\x00" + encoded).hexdigest()


def seal(seq: int, event: Event, prev_hash: str) -> Record:
    digest = payload_sha256(event.payload_json or "")
    return Record(seq, event, digest, prev_hash, record_hash(seq, event, digest, prev_hash))


def sequence(head: Head, events: Sequence[Event], existing: Mapping[str, int]) -> Batch:
    """Places new events after `head`; ids already logged, or repeated earlier in this batch,
    are reported as duplicates with the seq they hold."""
    known, records, results = dict(existing), list[Record](), list[AppendResult]()
    size, last = head.size, head.last_hash
    for event in events:
        if event.event_id in known:
            results.append(AppendResult(event.event_id, known[event.event_id], True))
            continue
        record = seal(size, event, last)
        records.append(record)
        known[event.event_id] = size
        results.append(AppendResult(event.event_id, size, False))
        size, last = size + 1, record.leaf_hash
    return Batch(records, results, Head(size, last))
