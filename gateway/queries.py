"""Query strings, as models: an unknown parameter, a value out of range or a contradiction
between two parameters is refused with 422 before any service is called. Each model knows the
request message it becomes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from gateway.schemas import MAX_INT64, Rfc3339, Seq, StorableText, timestamp
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as ops_pb

Outcome = Literal["success", "denied", "failure"]
State = Literal[
    "pending_approval",
    "approved",
    "rejected",
    "expired",
    "cancelled",
    "executing",
    "executed",
    "failed",
    "outcome_unknown",
]
Risk = Literal["low", "medium", "high", "critical"]
Latest = Annotated[int, Field(ge=0, le=MAX_INT64, description="0 or absent: the latest checkpoint")]


class QueryModel(StorableText):
    # Not strict: a query string carries every value as text.
    model_config = ConfigDict(extra="forbid")


class RecordQuery(QueryModel):
    after_seq: Annotated[
        int, Field(ge=-1, le=MAX_INT64, description="-1 starts at the beginning")
    ] = -1
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    target: Annotated[str, Field(max_length=256, examples=["action/4f0c..."])] = ""
    since: Rfc3339 | None = Field(None, description="occurred_at >= since (RFC 3339, with zone)")
    until: Rfc3339 | None = Field(None, description="occurred_at < until (RFC 3339, with zone)")
    actor: Annotated[str, Field(max_length=256, description="The actor's subject")] = ""
    action: Annotated[str, Field(max_length=128, examples=["ops.action.approved"])] = ""
    outcome: Outcome | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RecordQuery:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be later than since")
        return self

    def to_message(self) -> audit_pb.ListRecordsRequest:
        message = audit_pb.ListRecordsRequest(
            **self.model_dump(include={"after_seq", "limit", "target", "actor", "action"}),
            outcome=self.outcome or "",
        )
        if self.since is not None:
            message.since.CopyFrom(timestamp(self.since))
        if self.until is not None:
            message.until.CopyFrom(timestamp(self.until))
        return message


class InclusionQuery(QueryModel):
    seq: Seq
    tree_size: Latest = 0

    @model_validator(mode="after")
    def _inside(self) -> InclusionQuery:
        if self.tree_size and self.seq >= self.tree_size:
            raise ValueError("seq must be less than tree_size")
        return self

    def to_message(self) -> audit_pb.InclusionProofRequest:
        return audit_pb.InclusionProofRequest(**self.model_dump())


class ConsistencyQuery(QueryModel):
    first_size: Seq
    second_size: Latest = 0

    @model_validator(mode="after")
    def _ordered(self) -> ConsistencyQuery:
        if self.second_size and self.first_size > self.second_size:
            raise ValueError("first_size must not exceed second_size")
        return self

    def to_message(self) -> audit_pb.ConsistencyProofRequest:
        return audit_pb.ConsistencyProofRequest(**self.model_dump())


class ActionQuery(QueryModel):
    """Every filter given must match; newest first."""

    state: State | None = None
    kind: Annotated[str, Field(max_length=64, examples=["failover_market_data_feed"])] = ""
    risk: Risk | None = None
    assignee: Annotated[str, Field(max_length=256, description="A user subject")] = ""
    page_size: Annotated[int, Field(ge=1, le=500)] = 50
    page_token: Annotated[str, Field(max_length=1024)] = ""

    def to_message(self) -> ops_pb.ListActionsRequest:
        return ops_pb.ListActionsRequest(
            state=state_number(self.state) if self.state else ops_pb.ACTION_STATE_UNSPECIFIED,
            kind=self.kind,
            risk=risk_number(self.risk) if self.risk else ops_pb.RISK_UNSPECIFIED,
            assignee=self.assignee,
            page=common_pb2.PageRequest(page_size=self.page_size, page_token=self.page_token),
        )


class PolicyQuery(QueryModel):
    include_history: bool = Field(False, description="Every version, not only the current ones")

    def to_message(self) -> ops_pb.ListPoliciesRequest:
        return ops_pb.ListPoliciesRequest(include_history=self.include_history)


class MetricsQuery(QueryModel):
    since: Rfc3339 | None = Field(None, description="Actions proposed at or after (RFC 3339)")
    until: Rfc3339 | None = Field(None, description="Actions proposed before (RFC 3339)")

    @model_validator(mode="after")
    def _ordered(self) -> MetricsQuery:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be later than since")
        return self

    def to_message(self) -> ops_pb.GetMetricsRequest:
        message = ops_pb.GetMetricsRequest()
        if self.since is not None:
            message.since.CopyFrom(timestamp(self.since))
        if self.until is not None:
            message.until.CopyFrom(timestamp(self.until))
        return message


def state_number(name: State) -> ops_pb.ActionState.ValueType:
    return ops_pb.ActionState.Value(f"ACTION_STATE_{name.upper()}")


def risk_number(name: Risk) -> ops_pb.Risk.ValueType:
    return ops_pb.Risk.Value(f"RISK_{name.upper()}")
