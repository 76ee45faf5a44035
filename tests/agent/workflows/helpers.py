"""Rule requests as an admin would write them."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from tradeops.agent.v1 import trigger_service_pb2 as pb


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def rule_request(
    name: str = "rejects-to-chat",
    *,
    action: str = "ops.action.rejected",
    conditions: dict[str, Any] | None = None,
    step: str = "notify_webhook",
    parameters: dict[str, Any] | None = None,
    rule_id: str = "",
    enabled: bool = True,
    max_attempts: int = 0,
    reason: str = "tell the desk",
) -> pb.PutTriggerRequest:
    return pb.PutTriggerRequest(
        id=rule_id,
        name=name,
        enabled=enabled,
        match=pb.TriggerMatch(action=action, conditions=struct(conditions or {})),
        step=pb.TriggerStep(
            kind=step,
            parameters=struct({"webhook": "desk-chat"} if parameters is None else parameters),
        ),
        max_attempts=max_attempts,
        reason=reason,
    )
