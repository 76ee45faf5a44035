"""Domain objects to ExportService messages and back: exports, file chunks, keys, deliveries,
schedules."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from runtime.errors import InvalidArgument
from runtime.proto_time import timestamp
from services.export.domain.delivery import DeliveryAttempt, Verification
from services.export.domain.exports import Export, ExportFile, ExportState
from services.export.domain.manifest import parameters
from services.export.domain.requests import ExportRequest
from services.export.domain.schedules import Schedule, ScheduleSpec
from services.export.domain.signing import PublicKey
from tradeops.export.v1 import export_service_pb2 as pb

STATES = {
    ExportState.REQUESTED: pb.EXPORT_STATE_REQUESTED,
    ExportState.GENERATING: pb.EXPORT_STATE_GENERATING,
    ExportState.SIGNED: pb.EXPORT_STATE_SIGNED,
    ExportState.DELIVERING: pb.EXPORT_STATE_DELIVERING,
    ExportState.DELIVERED: pb.EXPORT_STATE_DELIVERED,
    ExportState.VERIFIED: pb.EXPORT_STATE_VERIFIED,
    ExportState.FAILED: pb.EXPORT_STATE_FAILED,
}
STATE_VALUES = {number: state.value for state, number in STATES.items()}


def export_request(request: pb.CreateExportRequest) -> ExportRequest:
    return ExportRequest(
        kind=request.kind,
        format=request.format,
        from_seq=request.from_seq,
        to_seq=request.to_seq,
        since=optional_time(request, "since"),
        until=optional_time(request, "until"),
        destination=request.destination,
        client_key=request.client_key,
        parameters=struct_dict(request, "parameters"),
        requested_by=request.requested_by.strip(),
    )


def export_message(export: Export) -> pb.Export:
    message = pb.Export(
        id=export.id,
        kind=export.kind,
        state=STATES[export.state],
        from_seq=export.from_seq,
        to_seq=export.to_seq,
        file_name=export.file_name,
        sha256=export.sha256,
        size_bytes=export.size_bytes,
        record_count=export.record_count,
        requested_by=export.requested_by,
        created_at=timestamp(export.created_at),
        updated_at=timestamp(export.updated_at),
        failure_reason=export.failure_reason,
        checkpoint_size=export.checkpoint_size,
        checkpoint_root=export.checkpoint_root,
        checkpoint_file=export.checkpoint_file,
        format=export.format,
        parameters=struct(parameters(export)),
        files=[file_message(f) for f in export.files],
        manifest_sha256=export.manifest_sha256,
        prev_manifest_sha256=export.prev_manifest_sha256,
        key_id=export.key_id,
        directory=export.directory,
        destination=export.destination,
        client_key=export.client_key,
        location=export.location,
    )
    for name in ("since", "until", "delivered_at", "verified_at"):
        if (at := getattr(export, name)) is not None:
            getattr(message, name).CopyFrom(timestamp(at))
    return message


def file_message(file: ExportFile) -> pb.ExportFile:
    return pb.ExportFile(
        name=file.name,
        size_bytes=file.size_bytes,
        sha256=file.sha256,
        record_count=file.record_count,
    )


async def chunk_messages(
    chunks: AsyncIterable[bytes], size_bytes: int, sha256: str
) -> AsyncIterator[pb.FileChunk]:
    """A file's chunks as ReadExportFile sends them: each with its offset, the first with the
    whole file's size and SHA-256."""
    offset = 0
    async for data in chunks:
        first = offset == 0
        yield pb.FileChunk(
            data=data,
            offset=offset,
            size_bytes=size_bytes if first else 0,
            sha256=sha256 if first else "",
        )
        offset += len(data)


def key_message(key: PublicKey) -> pb.SigningKey:
    message = pb.SigningKey(key_id=key.key_id, pem=key.pem, created_at=timestamp(key.created_at))
    if key.retired_at is not None:
        message.retired_at.CopyFrom(timestamp(key.retired_at))
    return message


def verification_message(verdict: Verification) -> pb.Verification:
    return pb.Verification(
        export_id=verdict.export_id,
        ok=verdict.ok,
        checked_at=timestamp(verdict.checked_at),
        problems=list(verdict.problems),
        fetched_from=verdict.fetched_from,
    )


def attempt_message(attempt: DeliveryAttempt) -> pb.DeliveryAttempt:
    return pb.DeliveryAttempt(
        at=timestamp(attempt.at),
        destination=attempt.destination,
        outcome=attempt.outcome,
        detail=attempt.detail,
        bytes=attempt.bytes,
    )


def schedule_spec(message: pb.Schedule) -> ScheduleSpec:
    return ScheduleSpec(
        id=message.id,
        name=message.name,
        cron=message.cron,
        time_zone=message.time_zone or "UTC",
        kind=message.kind,
        format=message.format or "jsonl",
        parameters=struct_dict(message, "parameters"),
        destination=message.destination,
        enabled=message.enabled,
    )


def schedule_message(schedule: Schedule) -> pb.Schedule:
    message = pb.Schedule(
        id=schedule.id,
        name=schedule.name,
        cron=schedule.cron,
        time_zone=schedule.time_zone,
        kind=schedule.kind,
        format=schedule.format,
        parameters=struct(dict(schedule.parameters)),
        destination=schedule.destination,
        enabled=schedule.enabled,
        next_run_at=timestamp(schedule.next_run_at),
        created_by=schedule.created_by,
    )
    if schedule.last_run_at is not None:
        message.last_run_at.CopyFrom(timestamp(schedule.last_run_at))
    return message


def optional_time(message: Message, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"{field} is not a representable time") from None


def struct(value: dict[str, Any]) -> Struct:
    message = Struct()
    message.update(value)
    return message


def struct_dict(message: Message, field: str) -> dict[str, Any]:
    return MessageToDict(getattr(message, field)) if message.HasField(field) else {}
