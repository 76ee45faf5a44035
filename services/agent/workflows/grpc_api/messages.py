"""Trigger rules and firings to and from their TriggerService messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.agent.workflows.domain.rules import (
    DEFAULT_ATTEMPTS,
    DONE,
    FAILED,
    PENDING,
    Definition,
    Rule,
)
from services.agent.workflows.domain.rules import Firing as FiringData
from tradeops.agent.v1 import trigger_service_pb2 as pb

STATES = {
    PENDING: pb.FIRING_STATE_PENDING,
    DONE: pb.FIRING_STATE_DONE,
    FAILED: pb.FIRING_STATE_FAILED,
}


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def definition(request: pb.PutTriggerRequest) -> Definition:
    return Definition(
        name=request.name,
        enabled=request.enabled,
        action=request.match.action,
        conditions=_dict(request.match.conditions),
        step=request.step.kind,
        parameters=_dict(request.step.parameters),
        max_attempts=request.max_attempts or DEFAULT_ATTEMPTS,
        reason=request.reason,
    )


def _dict(value: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(value)


def _struct(value: Any) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def trigger(rule: Rule) -> pb.Trigger:
    return pb.Trigger(
        id=rule.id,
        name=rule.name,
        version=rule.version,
        enabled=rule.enabled,
        match=pb.TriggerMatch(
            action=rule.action,
            conditions=_struct({k: list(v) for k, v in rule.conditions.items()}),
        ),
        step=pb.TriggerStep(kind=rule.step, parameters=_struct(dict(rule.parameters))),
        max_attempts=rule.max_attempts,
        reason=rule.reason,
        created_by=rule.created_by,
        created_at=timestamp(rule.created_at),
        latest_version=rule.latest_version or rule.version,
    )


def firing(found: FiringData) -> pb.Firing:
    message = pb.Firing(
        id=found.id,
        trigger_id=found.trigger_id,
        trigger_name=found.trigger_name,
        trigger_version=found.trigger_version,
        event_id=found.event_id,
        event_seq=found.event_seq,
        event_action=found.event_action,
        event_target=found.event_target,
        step=found.step,
        state=STATES[found.state],
        attempts=found.attempts,
        last_error=found.last_error,
        created=found.created,
        created_at=timestamp(found.created_at),
        updated_at=timestamp(found.updated_at),
    )
    if found.state == PENDING:
        message.next_attempt_at.CopyFrom(timestamp(found.next_attempt_at))
    return message
