"""Query strings of the agent process's routes, as models (see gateway.queries). Each model
knows the request message it becomes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gateway.agent_bodies import CheckId
from gateway.queries import QueryModel
from gateway.schemas import Id, Rfc3339, timestamp
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb
from tradeops.agent.v1 import remediation_service_pb2 as remediation_pb
from tradeops.common.v1 import common_pb2


class TriageMetricsQuery(QueryModel):
    since: Rfc3339 | None = Field(None, description="Decisions made at or after (RFC 3339)")
    until: Rfc3339 | None = Field(None, description="Decisions made before (RFC 3339)")

    @model_validator(mode="after")
    def _ordered(self) -> TriageMetricsQuery:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be later than since")
        return self

    def to_message(self) -> agent_pb.GetTriageMetricsRequest:
        message = agent_pb.GetTriageMetricsRequest()
        if self.since is not None:
            message.since.CopyFrom(timestamp(self.since))
        if self.until is not None:
            message.until.CopyFrom(timestamp(self.until))
        return message


class ExecutionQuery(QueryModel):
    action_id: Id | None = Field(None, description="Only this ops action's executions")
    limit: Annotated[int, Field(ge=1, le=500)] = 50

    def to_message(self) -> remediation_pb.ListExecutionsRequest:
        action_id = str(self.action_id) if self.action_id else ""
        return remediation_pb.ListExecutionsRequest(action_id=action_id, limit=self.limit)


PageSize = Annotated[int, Field(ge=1, le=500)]


class ResultQuery(QueryModel):
    """Every filter given must match; newest first, a page at a time."""

    check_id: CheckId | None = None
    status: Literal["pass", "fail", "error"] | None = None
    page_size: PageSize | None = Field(None, description="50 when absent")
    page_token: Annotated[str, Field(max_length=1024)] = ""
    limit: PageSize | None = Field(None, description="Deprecated: use page_size")

    @model_validator(mode="after")
    def _one_size(self) -> ResultQuery:
        if self.page_size is not None and self.limit is not None:
            raise ValueError("give page_size or the deprecated limit, not both")
        return self

    def to_message(self) -> compliance_pb.ListResultsRequest:
        size = self.page_size or self.limit or 50
        return compliance_pb.ListResultsRequest(
            check_id=self.check_id or "",
            status=self.status or "",
            page=common_pb2.PageRequest(page_size=size, page_token=self.page_token),
        )


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


# Runs and audit summaries: newest first, at most 200.
RecentLimit = Annotated[int, Field(ge=1, le=200)]
