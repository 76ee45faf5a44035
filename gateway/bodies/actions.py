"""Bodies and query strings of /agent/ops/actions: listing, voting, and the work on one action
(cancel, new parameters, assignment, escalation, comments, execution)."""

from __future__ import annotations

from typing import Annotated, Literal

from google.protobuf.struct_pb2 import Struct
from pydantic import Field

from gateway.bodies.base import Parameters, QueryModel, StrictModel, Who, example
from gateway.rest_json import number_of
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb

# The REST names of ActionState and Risk (gateway.rest_json), as replies spell them too;
# tests/gateway/test_rest_shapes.py holds them to the contract's values.
State = Literal[
    "PENDING_APPROVAL",
    "APPROVED",
    "REJECTED",
    "EXPIRED",
    "CANCELLED",
    "EXECUTING",
    "EXECUTED",
    "FAILED",
    "OUTCOME_UNKNOWN",
]


Risk = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
Order = Literal["NEWEST", "DEADLINE"]


class ActionQuery(QueryModel):
    """Every filter given must match; newest first unless `order` says DEADLINE."""

    state: State | None = None
    kind: Annotated[str, Field(max_length=64, examples=["failover_market_data_feed"])] = ""
    risk: Risk | None = None
    assignee: Annotated[str, Field(max_length=256, description="A user subject")] = ""
    page_size: Annotated[int, Field(ge=1, le=500)] = 50
    page_token: Annotated[str, Field(max_length=1024)] = ""
    awaiting_me: bool = Field(
        False,
        description="Only the actions the caller may approve now (their inbox), under the"
        " rules the approval itself enforces; see GET .../{action_id}/eligibility for why not",
    )
    order: Order | None = Field(
        None,
        description="NEWEST (when left out): created_at descending. DEADLINE: pending actions"
        " by expires_at, riskiest first, then id (with awaiting_me or state=PENDING_APPROVAL)",
    )

    def to_message(self) -> pb.ListActionsRequest:
        return pb.ListActionsRequest(
            state=number_of(pb.ActionState, self.state or "UNSPECIFIED"),
            kind=self.kind,
            risk=number_of(pb.Risk, self.risk or "UNSPECIFIED"),
            assignee=self.assignee,
            page=common_pb2.PageRequest(page_size=self.page_size, page_token=self.page_token),
            awaiting_me=self.awaiting_me,
            order=number_of(pb.ActionOrder, self.order or "UNSPECIFIED"),
        )


class Vote(StrictModel):
    model_config = example({"comment": "checked with the desk"})

    comment: Annotated[str, Field(max_length=2000)] = ""


Reason = Annotated[
    str,
    Field(min_length=1, max_length=1000, pattern=r"\S", examples=["feed recovered on its own"]),
]


class Cancellation(StrictModel):
    model_config = example({"reason": "feed recovered on its own"})

    reason: Reason

    def to_message(self, action_id: str) -> pb.CancelActionRequest:
        return pb.CancelActionRequest(id=action_id, reason=self.reason)


class NewParameters(StrictModel):
    """The whole new parameter object; every earlier vote is voided."""

    model_config = example(
        {"parameters": {"feed": "XNAS-ITCH", "to": "secondary"}, "reason": "primary line is down"}
    )

    parameters: Parameters
    reason: Reason

    def to_message(self, action_id: str) -> pb.UpdateParametersRequest:
        parameters = Struct()
        parameters.update(self.parameters)
        return pb.UpdateParametersRequest(id=action_id, parameters=parameters, reason=self.reason)


class Assignment(StrictModel):
    """Neither assignee nor team: the caller takes it (self-assign)."""

    model_config = example({"assignee": "bob", "team": "md-support"})

    assignee: Who = Field("", description="A user subject")
    team: Who = ""

    def to_message(self, action_id: str) -> pb.AssignActionRequest:
        return pb.AssignActionRequest(id=action_id, assignee=self.assignee, team=self.team)


class Acknowledgement(StrictModel):
    """Empty: the acknowledgement is the caller's, now."""

    def to_message(self, action_id: str) -> pb.AcknowledgeActionRequest:
        return pb.AcknowledgeActionRequest(id=action_id)


class Escalation(StrictModel):
    model_config = example({"reason": "no answer from the desk in 15 minutes"})

    reason: Reason

    def to_message(self, action_id: str) -> pb.EscalateActionRequest:
        return pb.EscalateActionRequest(id=action_id, reason=self.reason)


class NewComment(StrictModel):
    model_config = example({"text": "desk confirms the lag"})

    text: Annotated[str, Field(min_length=1, max_length=4000, pattern=r"\S")]

    def to_message(self, action_id: str) -> pb.AddCommentRequest:
        return pb.AddCommentRequest(id=action_id, text=self.text)


class ExecutionStart(StrictModel):
    """Empty: the caller executes it by hand. Only services name an executor, and no route here
    admits a service token, so ops refuses a name (403) rather than the gateway hiding that."""

    executor: Annotated[str, Field(max_length=128, pattern=r"^\S*$", examples=[""])] = ""

    def to_message(self, action_id: str) -> pb.StartExecutionRequest:
        return pb.StartExecutionRequest(id=action_id, executor=self.executor)


class ExecutionResult(StrictModel):
    model_config = example({"outcome": "EXECUTED", "detail": "failed over at 09:31"})

    outcome: Literal["EXECUTED", "FAILED", "OUTCOME_UNKNOWN"]
    detail: Annotated[str, Field(max_length=4000)] = ""

    def to_message(self, action_id: str) -> pb.RecordExecutionResultRequest:
        outcome = number_of(pb.ActionState, self.outcome)
        return pb.RecordExecutionResultRequest(id=action_id, outcome=outcome, detail=self.detail)
