"""Conversions between the audit contract's messages and the domain's objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from runtime.errors import InvalidArgument
from runtime.proto_time import timestamp
from services.audit.log.domain.filters import Filter
from services.audit.log.domain.keyring import PublicKey
from services.audit.log.domain.records import Actor, Event, Record
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.common.v1 import common_pb2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_SECONDS = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def event(index: int, message: pb.AuditEvent) -> Event:
    actor = message.actor
    return Event(
        event_id=message.event_id,
        occurred_at=_occurred_at(index, message),
        actor=_actor(
            actor.subject, tuple(actor.roles), actor.kind, actor.logic_version, actor.desk
        ),
        action=message.action,
        target=message.target,
        outcome=message.outcome,
        trace_id=message.trace_id,
        source=message.source,
        payload_json=message.payload_json,
    )


@lru_cache(maxsize=4096)
def _actor(subject: str, roles: tuple[str, ...], kind: str, logic_version: str, desk: str) -> Actor:
    """One Actor per distinct caller: a desk has few actors and many events, and an Actor
    computes its canonical encoding once (the sequencer's hottest step without this)."""
    return Actor(subject, roles, kind, logic_version, desk)


def _occurred_at(index: int, message: pb.AuditEvent) -> datetime:
    # An event whose occurred_at is unset is stamped with the time the audit service got it.
    if not message.HasField("occurred_at"):
        return datetime.now(UTC)
    stamp = message.occurred_at
    # Timestamp.ToDatetime costs several times this; the range is the one it enforces.
    if not (_MIN_SECONDS <= stamp.seconds <= _MAX_SECONDS and 0 <= stamp.nanos < 1_000_000_000):
        raise InvalidArgument(f"events[{index}]: occurred_at is out of range")
    return _EPOCH + timedelta(0, stamp.seconds, stamp.nanos // 1000)  # days, seconds, microseconds


def record(found: Record) -> pb.AuditRecord:
    event = found.event
    message = pb.AuditRecord(
        seq=found.seq,
        event=pb.AuditEvent(
            event_id=event.event_id,
            occurred_at=timestamp(event.occurred_at),
            actor=actor(event.actor),
            action=event.action,
            target=event.target,
            outcome=event.outcome,
            trace_id=event.trace_id,
            payload_json=event.payload_json or "",
            source=event.source,
        ),
        payload_sha256=found.payload_sha256,
        prev_hash=found.prev_hash,
        leaf_hash=found.leaf_hash,
    )
    if found.recorded_at is not None:
        message.recorded_at.CopyFrom(timestamp(found.recorded_at))
    return message


def actor(found: Actor) -> common_pb2.Actor:
    return common_pb2.Actor(
        subject=found.subject,
        roles=found.roles,
        kind=found.kind,
        logic_version=found.logic_version,
        desk=found.desk,
    )


def query(request: pb.ListRecordsRequest) -> Filter:
    since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
    until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
    if since and until and since >= until:
        raise InvalidArgument("since must be before until")
    outcome = request.outcome
    if outcome and outcome not in ("success", "denied", "failure"):
        raise InvalidArgument("outcome must be success, denied or failure")
    return Filter(since, until, request.actor, request.action, outcome)


def public_key(key: PublicKey) -> pb.PublicKey:
    until = -1 if key.until_size is None else key.until_size
    return pb.PublicKey(
        name=key.name,
        key_id=key.key_id_hex,
        vkey=key.vkey,
        from_size=key.from_size,
        until_size=until,
    )
