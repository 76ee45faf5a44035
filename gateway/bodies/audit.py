"""Bodies and query strings of /audit: reading records and redacting a payload."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gateway.bodies.base import (
    MAX_INT64,
    QueryModel,
    Rfc3339,
    StrictModel,
    check_window,
    copy_window,
    example,
)
from tradeops.audit.v1 import audit_service_pb2 as audit_pb


class Redaction(StrictModel):
    model_config = example({"reason": "GDPR erasure request #1234"})

    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            pattern=r"\S",
            description="Why the payload is removed; kept in the log.",
            examples=["GDPR erasure request #1234"],
        ),
    ]

    def to_message(self, seq: int) -> audit_pb.RedactPayloadRequest:
        return audit_pb.RedactPayloadRequest(seq=seq, reason=self.reason)


Outcome = Literal["success", "denied", "failure"]


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
        check_window(self.since, self.until)
        return self

    def to_message(self) -> audit_pb.ListRecordsRequest:
        message = audit_pb.ListRecordsRequest(
            **self.model_dump(include={"after_seq", "limit", "target", "actor", "action"}),
            outcome=self.outcome or "",
        )
        copy_window(message, self.since, self.until)
        return message
