"""Bodies and query strings of /triggers: automatic workflow steps on events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from google.protobuf import struct_pb2
from pydantic import Field

from gateway.bodies.base import QueryModel, StrictModel, example
from tradeops.agent.v1 import trigger_service_pb2 as pb
from tradeops.common.v1 import common_pb2

Step = Literal["create_export", "run_compliance_check", "notify_webhook", "open_incident"]


Reason = Annotated[str, Field(min_length=1, max_length=500)]


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


class MatchBody(StrictModel):
    action: Annotated[str, Field(min_length=1, max_length=200, examples=["ops.action.executed"])]
    conditions: Annotated[
        dict[str, str | list[str]],
        Field(
            max_length=20,
            examples=[{"action.kind": "disable_strategy_kill_switch"}],
            default_factory=dict,
            description="fact -> value or list of values; all must hold",
        ),
    ]


class StepBody(StrictModel):
    kind: Step
    parameters: Annotated[
        dict[str, Any],
        Field(
            max_length=20,
            default_factory=dict,
            examples=[{"kind": "evidence_pack", "parameters": {"action_id": "{target_id}"}}],
        ),
    ]


class TriggerBody(StrictModel):
    """A rule definition; every PUT of it is a new version, the old ones kept."""

    model_config = example(
        {
            "name": "kill-switch-evidence",
            "match": {
                "action": "ops.action.executed",
                "conditions": {"action.kind": "disable_strategy_kill_switch"},
            },
            "step": {
                "kind": "create_export",
                "parameters": {"kind": "evidence_pack", "parameters": {"action_id": "{target_id}"}},
            },
            "reason": "evidence for every kill switch pulled",
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=100, examples=["kill-switch-evidence"])]
    enabled: bool = True
    match: MatchBody
    step: StepBody
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    reason: Reason

    def to_message(self, trigger_id: str = "") -> pb.PutTriggerRequest:
        return pb.PutTriggerRequest(
            id=trigger_id,
            name=self.name,
            enabled=self.enabled,
            match=pb.TriggerMatch(
                action=self.match.action, conditions=_struct(dict(self.match.conditions))
            ),
            step=pb.TriggerStep(kind=self.step.kind, parameters=_struct(self.step.parameters)),
            max_attempts=self.max_attempts,
            reason=self.reason,
        )


class DisableBody(StrictModel):
    model_config = example({"reason": "replaced by kill-switch-evidence-v2"})

    reason: Reason


class VersionQuery(QueryModel):
    version: Annotated[int, Field(ge=0, le=2**31 - 1, description="0 or absent: current")] = 0


class FiringQuery(QueryModel):
    page_size: Annotated[int, Field(ge=1, le=500)] = 50
    page_token: Annotated[str, Field(max_length=1024)] = ""

    def to_message(self, trigger_id: str = "") -> pb.ListFiringsRequest:
        page = common_pb2.PageRequest(page_size=self.page_size, page_token=self.page_token)
        return pb.ListFiringsRequest(trigger_id=trigger_id, page=page)
