"""Delivery, verification and schedule objects to ExportService messages and back."""

from __future__ import annotations

from services.export.delivery import DeliveryAttempt, Verification
from services.export.grpc_messages import struct, struct_dict, timestamp
from services.export.schedules import Schedule, ScheduleSpec
from tradeops.export.v1 import export_service_pb2 as pb


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
