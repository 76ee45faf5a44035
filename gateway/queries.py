"""Query strings, as models: an unknown parameter, a value out of range or a contradiction
between two parameters is refused with 422 before any service is called. Each model knows the
request message it becomes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.schemas import MAX_INT64, Rfc3339, Seq, timestamp
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

Outcome = Literal["success", "denied", "failure"]
Latest = Annotated[int, Field(ge=0, le=MAX_INT64, description="0 or absent: the latest checkpoint")]


class QueryModel(BaseModel):
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
