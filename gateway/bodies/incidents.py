"""Bodies and query strings of /incidents: reporting an incident, listing incidents and
decisions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from gateway.bodies.base import (
    IncidentKind,
    Metric,
    PageSize,
    QueryModel,
    Rfc3339,
    StrictModel,
    example,
)
from runtime.proto_time import timestamp
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.common.v1 import common_pb2

INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH feed 850 ms behind the consolidated tape",
    "metrics": {"latency_ms": 850},
    "venue": "XNAS",
}


# The agent's limits (services/agent/triage/domain/incidents.py), so the schema says what it takes.
MetricName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]


class NewIncident(StrictModel):
    model_config = example(INCIDENT)

    source: Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S")] = Field(
        examples=["md-gateway-ny4"]
    )
    kind: IncidentKind
    desk: Annotated[str, Field(max_length=64)] = ""
    subject: Annotated[
        str, Field(min_length=1, max_length=200, pattern=r"\S", examples=["XNAS-ITCH"])
    ]
    summary: Annotated[str, Field(max_length=2000)] = ""
    metrics: Annotated[dict[MetricName, Metric], Field(max_length=50)] = Field(
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


class IncidentQuery(QueryModel):
    """Newest first, a page at a time; follow `next_page_token`."""

    page_size: PageSize | None = Field(None, description="50 when absent")
    page_token: Annotated[str, Field(max_length=1024)] = ""
    limit: PageSize | None = Field(None, description="Deprecated: use page_size")

    @model_validator(mode="after")
    def _one_size(self) -> IncidentQuery:
        if self.page_size is not None and self.limit is not None:
            raise ValueError("give page_size or the deprecated limit, not both")
        return self

    def to_message(self) -> agent_pb.ListIncidentsRequest:
        size = self.page_size or self.limit or 50
        page = common_pb2.PageRequest(page_size=size, page_token=self.page_token)
        return agent_pb.ListIncidentsRequest(page=page)


class DecisionQuery(QueryModel):
    """One incident's triage decisions, newest first, a page at a time."""

    page_size: PageSize = 50
    page_token: Annotated[str, Field(max_length=1024)] = ""

    def to_message(self, incident_id: str) -> agent_pb.ListDecisionsRequest:
        page = common_pb2.PageRequest(page_size=self.page_size, page_token=self.page_token)
        return agent_pb.ListDecisionsRequest(incident_id=incident_id, page=page)
