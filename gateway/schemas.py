"""Request bodies. Strict: unknown fields, wrong JSON types and oversized strings are refused
with 422 before any service is called. Each model knows the request message it becomes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.export.v1 import export_service_pb2 as export_pb


def _text_only(value: Any) -> Any:
    # Lax datetime parsing would take a bare number as a Unix time; RFC 3339 text only.
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string, e.g. 2026-01-31T09:30:00Z")
    return value


# JSON carries ids and times as text; strict mode alone would demand Python objects.
Id = Annotated[UUID, Field(strict=False)]
Rfc3339 = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_text_only)]
Metric = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=128)]


class StrictModel(BaseModel):
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

    def to_message(self) -> agent_pb.CreateIncidentRequest:
        message = agent_pb.CreateIncidentRequest(
            **self.model_dump(exclude={"observed_at"}),
        )
        if self.observed_at is not None:
            message.observed_at.CopyFrom(_timestamp(self.observed_at))
        return message


class TriageRequest(StrictModel):
    incident_id: Id

    def to_message(self) -> agent_pb.TriageIncidentRequest:
        return agent_pb.TriageIncidentRequest(incident_id=str(self.incident_id))


class Vote(StrictModel):
    comment: Annotated[str, Field(max_length=2000)] = ""


class NewExport(StrictModel):
    kind: Literal["audit_extract"] = "audit_extract"
    from_seq: Annotated[int, Field(ge=0)] = 0
    to_seq: Annotated[int, Field(ge=-1, description="-1: up to the end of the log")] = -1

    @model_validator(mode="after")
    def _ordered(self) -> NewExport:
        if self.to_seq != -1 and self.to_seq < self.from_seq:
            raise ValueError("to_seq must be -1 or at least from_seq")
        return self

    def to_message(self) -> export_pb.CreateExportRequest:
        return export_pb.CreateExportRequest(**self.model_dump())


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
