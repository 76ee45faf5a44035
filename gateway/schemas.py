"""Request bodies. Strict: unknown fields, wrong JSON types and oversized strings are refused
with 422 before any service is called. Each model knows the request message it becomes.

Also the value types the query-string models (gateway.queries) share with bodies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

MAX_INT64 = 2**63 - 1  # seq numbers and tree sizes are int64 in the contracts

# RFC 3339 section 5.6 date-time, offset required. Lax datetime parsing alone would also take a
# bare number as a Unix time, a date without a time or a time without seconds.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "expected an RFC 3339 date-time with a time zone, e.g. 2026-01-31T09:30:00Z"
            " (in a URL, write + as %2B)"
        )
    return value


def _in_utc(moment: datetime) -> datetime:
    # A protobuf Timestamp is UTC; 0001-01-01T00:00:00+01:00 has no UTC counterpart.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time is out of range once converted to UTC") from None


# JSON carries ids and times as text; strict mode alone would demand Python objects.
Id = Annotated[UUID, Field(strict=False)]
Rfc3339 = Annotated[
    AwareDatetime, Field(strict=False), BeforeValidator(_rfc3339_text), AfterValidator(_in_utc)
]
Seq = Annotated[int, Field(ge=0, le=MAX_INT64)]
Metric = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=128)]


class StorableText(BaseModel):
    """Refuses text a service could not store: JSON may escape a lone surrogate ("\\ud800"),
    which protobuf cannot encode, and NUL, which a Postgres text or jsonb value cannot hold."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check_text(data)
        return data


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000)")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictModel(StorableText):
    model_config = ConfigDict(extra="forbid", strict=True)


class NewIncident(StrictModel):
    source: Name = Field(examples=["md-gateway-ny4"])
    kind: Annotated[str, Field(min_length=1, max_length=64, examples=["market_data_latency"])]
    desk: Annotated[str, Field(max_length=64)] = ""
    subject: Annotated[str, Field(min_length=1, max_length=256, examples=["XNAS-ITCH"])]
    summary: Annotated[str, Field(max_length=4000)] = ""
    metrics: Annotated[dict[Name, Metric], Field(max_length=64)] = Field(
        default_factory=dict, examples=[{"latency_ms": 850}]
    )
    observed_at: Rfc3339 | None = None
    venue: Annotated[str, Field(max_length=64, examples=["XNAS"])] = ""
    instrument: Annotated[str, Field(max_length=64, examples=["US0378331005"])] = ""

    def to_message(self) -> agent_pb.CreateIncidentRequest:
        message = agent_pb.CreateIncidentRequest(
            **self.model_dump(exclude={"observed_at"}),
        )
        if self.observed_at is not None:
            message.observed_at.CopyFrom(timestamp(self.observed_at))
        return message


class TriageRequest(StrictModel):
    incident_id: Id

    def to_message(self) -> agent_pb.TriageIncidentRequest:
        return agent_pb.TriageIncidentRequest(incident_id=str(self.incident_id))


class Vote(StrictModel):
    comment: Annotated[str, Field(max_length=2000)] = ""


class Redaction(StrictModel):
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


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
