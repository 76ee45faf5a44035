"""The AuditService servicer: message -> use case -> message, and its RBAC table.

An event whose occurred_at is unset is stamped with the time the audit service received it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from runtime.auth import ANYONE, COMPLIANCE, SERVICES, current_principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import ServiceSpec
from services.audit import service
from services.audit.domain import Actor, Event, Record
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

Context = grpc.aio.ServicerContext[Any, Any]
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AuditService"].full_name
_PREFIX = f"/{SERVICE_NAME}/"

RBAC = {
    f"{_PREFIX}AppendEvents": SERVICES,
    f"{_PREFIX}ListRecords": ANYONE | SERVICES,
    f"{_PREFIX}StreamRecords": COMPLIANCE | SERVICES,
    f"{_PREFIX}VerifyChain": COMPLIANCE,
}


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def AppendEvents(
        self, request: pb.AppendEventsRequest, context: Context
    ) -> pb.AppendEventsResponse:
        events = [_event(index, message) for index, message in enumerate(request.events)]
        results = await service.append(self._db, events)
        return pb.AppendEventsResponse(
            results=[
                pb.AppendResult(event_id=r.event_id, seq=r.seq, duplicate=r.duplicate)
                for r in results
            ]
        )

    async def ListRecords(
        self, request: pb.ListRecordsRequest, context: Context
    ) -> pb.ListRecordsResponse:
        page = await service.list_records(
            self._db, after_seq=request.after_seq, limit=request.limit, target=request.target
        )
        return pb.ListRecordsResponse(
            records=[_record(record) for record in page.records],
            last_seq=page.last_seq,
            log_size=page.log_size,
        )

    async def StreamRecords(
        self, request: pb.StreamRecordsRequest, context: Context
    ) -> AsyncIterator[pb.AuditRecord]:
        records = service.stream(self._db, from_seq=request.from_seq, to_seq=request.to_seq)
        async for record in records:
            yield _record(record)

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        verdict = await service.verify_chain(self._db, caller=current_principal())
        return pb.VerifyChainResponse(
            ok=verdict.ok,
            checked=verdict.checked,
            first_bad_seq=verdict.first_bad_seq,
            reason=verdict.reason,
        )


def spec(db: Database) -> ServiceSpec:
    servicer = AuditServicer(db)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_AuditServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
    )


def _event(index: int, message: pb.AuditEvent) -> Event:
    actor = message.actor
    return Event(
        event_id=message.event_id,
        occurred_at=_occurred_at(index, message),
        actor=Actor(actor.subject, tuple(actor.roles), actor.kind, actor.logic_version, actor.desk),
        action=message.action,
        target=message.target,
        outcome=message.outcome,
        trace_id=message.trace_id,
        source=message.source,
        payload_json=message.payload_json,
    )


def _occurred_at(index: int, message: pb.AuditEvent) -> datetime:
    if not message.HasField("occurred_at"):
        return datetime.now(UTC)
    try:
        return message.occurred_at.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"events[{index}]: occurred_at is out of range") from None


def _record(record: Record) -> pb.AuditRecord:
    event, actor = record.event, record.event.actor
    message = pb.AuditRecord(
        seq=record.seq,
        event=pb.AuditEvent(
            event_id=event.event_id,
            occurred_at=_timestamp(event.occurred_at),
            actor=common_pb2.Actor(
                subject=actor.subject,
                roles=actor.roles,
                kind=actor.kind,
                logic_version=actor.logic_version,
                desk=actor.desk,
            ),
            action=event.action,
            target=event.target,
            outcome=event.outcome,
            trace_id=event.trace_id,
            payload_json=event.payload_json or "",
            source=event.source,
        ),
        payload_sha256=record.payload_sha256,
        prev_hash=record.prev_hash,
        leaf_hash=record.leaf_hash,
    )
    if record.recorded_at is not None:
        message.recorded_at.CopyFrom(_timestamp(record.recorded_at))
    return message


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
