"""The audit log's record model: the canonical encoding that `hash` covers (specified on
AuditRecord in audit_service.proto) and sequencing. Pure: no grpc, no SQLAlchemy. Validation
lives in validation.py, chain verification in verification.py."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.canonical import canonical_json, sha256_hex

GENESIS = "0" * 64


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
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def payload_sha256(payload_json: str) -> str:
    return sha256_hex(payload_json)


def canonical_record(seq: int, event: Event, payload_hash: str, prev_hash: str) -> str:
    return canonical_json(
        {
            "seq": seq,
            "event_id": event.event_id,
            "occurred_at": rfc3339(event.occurred_at),
            "actor": event.actor.as_dict(),
            "action": event.action,
            "target": event.target,
            "outcome": event.outcome,
            "trace_id": event.trace_id,
            "source": event.source,
            "payload_sha256": payload_hash,
            "prev_hash": prev_hash,
        }
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
