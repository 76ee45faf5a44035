"""Bodies and query strings of /agent/compliance: check runs, results and audit summaries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from gateway.bodies.base import (
    PageSize,
    QueryModel,
    Rfc3339,
    StrictModel,
    check_window,
    copy_window,
    example,
)
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb
from tradeops.common.v1 import common_pb2

MAX_SUMMARY_WINDOW = timedelta(days=31)  # SummariseAudit refuses longer windows


CheckId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]


class ChecksRun(StrictModel):
    check_ids: Annotated[list[CheckId], Field(max_length=64)] = Field(
        default_factory=list, description="Empty or absent: every check"
    )

    def to_message(self) -> compliance_pb.RunChecksRequest:
        return compliance_pb.RunChecksRequest(check_ids=self.check_ids)


class AuditWindow(StrictModel):
    model_config = example({"since": "2026-01-01T00:00:00Z", "until": "2026-01-31T00:00:00Z"})

    since: Rfc3339
    until: Rfc3339 | None = Field(None, description="Absent: now")

    @model_validator(mode="after")
    def _bounded(self) -> AuditWindow:
        check_window(self.since, self.until)
        if self.until is not None and self.until - self.since > MAX_SUMMARY_WINDOW:
            raise ValueError("the window may span at most 31 days")
        return self

    def to_message(self) -> compliance_pb.SummariseAuditRequest:
        message = compliance_pb.SummariseAuditRequest()
        copy_window(message, self.since, self.until)
        return message


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


# Runs and audit summaries: newest first, at most 200.
RecentLimit = Annotated[int, Field(ge=1, le=200)]


class RecentQuery(QueryModel):
    """A model, so an unknown query parameter is refused (422) as on every other list."""

    limit: RecentLimit = 20
