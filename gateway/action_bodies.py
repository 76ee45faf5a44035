"""Request bodies of the work on one action (cancel, new parameters, assignment, escalation,
comments, execution). Strict, like gateway.schemas: refused with 422 before any service is
called. Each model knows the request message it becomes."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from google.protobuf.struct_pb2 import Struct
from pydantic import AfterValidator, Field

from gateway.schemas import StrictModel
from tradeops.ops.v1 import ops_service_pb2 as pb

MAX_PARAMETERS = 64
MAX_DEPTH = 8  # a protobuf Struct nests a level per object or list; parsers cap recursion
EXACT = 2**53  # a Struct holds numbers as doubles: larger integers would change silently


def _plain_json(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"parameters nest deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("parameters must be finite numbers")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT:
        raise ValueError(f"integers in parameters must lie within ±2**53; send {value} as text")
    if isinstance(value, dict):
        value = list(value.values())
    for child in value if isinstance(value, list) else ():
        _plain_json(child, depth + 1)


def _checked(parameters: dict[str, Any]) -> dict[str, Any]:
    _plain_json(parameters)
    return parameters


Reason = Annotated[
    str,
    Field(min_length=1, max_length=1000, pattern=r"\S", examples=["feed recovered on its own"]),
]
# Empty, or a name without surrounding blanks.
Who = Annotated[str, Field(max_length=256, pattern=r"^(\S(.*\S)?)?$")]
Parameters = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=128)], Any],
    Field(max_length=MAX_PARAMETERS, examples=[{"feed": "XNAS-ITCH", "to": "secondary"}]),
    AfterValidator(_checked),
]


class Cancellation(StrictModel):
    reason: Reason

    def to_message(self, action_id: str) -> pb.CancelActionRequest:
        return pb.CancelActionRequest(id=action_id, reason=self.reason)


class NewParameters(StrictModel):
    """The whole new parameter object; every earlier vote is voided."""

    parameters: Parameters
    reason: Reason

    def to_message(self, action_id: str) -> pb.UpdateParametersRequest:
        parameters = Struct()
        parameters.update(self.parameters)
        return pb.UpdateParametersRequest(id=action_id, parameters=parameters, reason=self.reason)


class Assignment(StrictModel):
    """Neither assignee nor team: the caller takes it (self-assign)."""

    assignee: Who = Field("", description="A user subject")
    team: Who = ""

    def to_message(self, action_id: str) -> pb.AssignActionRequest:
        return pb.AssignActionRequest(id=action_id, assignee=self.assignee, team=self.team)


class Acknowledgement(StrictModel):
    """Empty: the acknowledgement is the caller's, now."""

    def to_message(self, action_id: str) -> pb.AcknowledgeActionRequest:
        return pb.AcknowledgeActionRequest(id=action_id)


class Escalation(StrictModel):
    reason: Reason

    def to_message(self, action_id: str) -> pb.EscalateActionRequest:
        return pb.EscalateActionRequest(id=action_id, reason=self.reason)


class NewComment(StrictModel):
    text: Annotated[str, Field(min_length=1, max_length=4000, pattern=r"\S")]

    def to_message(self, action_id: str) -> pb.AddCommentRequest:
        return pb.AddCommentRequest(id=action_id, text=self.text)


class ExecutionStart(StrictModel):
    executor: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^\S+$", examples=["webhook:desk-oms"])
    ]

    def to_message(self, action_id: str) -> pb.StartExecutionRequest:
        return pb.StartExecutionRequest(id=action_id, executor=self.executor)


class ExecutionResult(StrictModel):
    outcome: Literal["executed", "failed", "outcome_unknown"]
    detail: Annotated[str, Field(max_length=4000)] = ""

    def to_message(self, action_id: str) -> pb.RecordExecutionResultRequest:
        outcome = pb.ActionState.Value(f"ACTION_STATE_{self.outcome.upper()}")
        return pb.RecordExecutionResultRequest(id=action_id, outcome=outcome, detail=self.detail)
