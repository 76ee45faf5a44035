"""Request bodies of the agent process's routes beyond intake: batch triage, feedback, rule sets,
compliance runs and audit summaries. Strict, like gateway.schemas. Each model knows the request
message it becomes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from gateway.action_bodies import _checked
from gateway.schemas import NewIncident, Rfc3339, StrictModel, timestamp
from runtime.canonical import canonical_json
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb

MAX_BATCH = 1000  # TriageBatch's own limit
MAX_SUMMARY_WINDOW = timedelta(days=31)  # SummariseAudit refuses longer windows

Severity = Literal["P1", "P2", "P3", "P4"]
Category = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
CheckId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]
Why = Annotated[str, Field(max_length=1000)]
RuleDocument = Annotated[
    dict[Annotated[str, Field(max_length=128)], Any],
    Field(min_length=1, max_length=256, description="The rule file's JSON object"),
    AfterValidator(_checked),
]


class IncidentBatch(StrictModel):
    incidents: Annotated[list[NewIncident], Field(min_length=1, max_length=MAX_BATCH)]

    def to_message(self) -> agent_pb.TriageBatchRequest:
        return agent_pb.TriageBatchRequest(incidents=[i.to_message() for i in self.incidents])


class FeedbackBody(StrictModel):
    """An override needs a reason and at least one correction; an agreement takes none."""

    verdict: Literal["agree", "override"]
    corrected_severity: Severity | None = None
    corrected_category: Category | None = None
    reason: Why = ""

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackBody:
        corrected = self.corrected_severity is not None or self.corrected_category is not None
        if self.verdict == "override":
            if not corrected:
                raise ValueError("an override names corrected_severity or corrected_category")
            if not self.reason.strip():
                raise ValueError("an override needs a reason")
        elif corrected:
            raise ValueError("an agreement carries no correction")
        return self

    def to_message(self, decision_id: str) -> agent_pb.RecordFeedbackRequest:
        return agent_pb.RecordFeedbackRequest(
            decision_id=decision_id,
            verdict=self.verdict,
            corrected_severity=self.corrected_severity or "",
            corrected_category=self.corrected_category or "",
            reason=self.reason,
        )


class RuleSetBody(StrictModel):
    document: RuleDocument
    reason: Annotated[str, Field(min_length=1, max_length=1000, pattern=r"\S")]

    def to_message(self) -> agent_pb.PutRuleSetRequest:
        # Canonical text: the same document always hashes to the same logic version.
        return agent_pb.PutRuleSetRequest(
            document=canonical_json(self.document), reason=self.reason
        )


class ChecksRun(StrictModel):
    check_ids: Annotated[list[CheckId], Field(max_length=64)] = Field(
        default_factory=list, description="Empty or absent: every check"
    )

    def to_message(self) -> compliance_pb.RunChecksRequest:
        return compliance_pb.RunChecksRequest(check_ids=self.check_ids)


class AuditWindow(StrictModel):
    since: Rfc3339
    until: Rfc3339 | None = Field(None, description="Absent: now")

    @model_validator(mode="after")
    def _bounded(self) -> AuditWindow:
        if self.until is not None:
            if self.until <= self.since:
                raise ValueError("until must be later than since")
            if self.until - self.since > MAX_SUMMARY_WINDOW:
                raise ValueError("the window may span at most 31 days")
        return self

    def to_message(self) -> compliance_pb.SummariseAuditRequest:
        message = compliance_pb.SummariseAuditRequest(since=timestamp(self.since))
        if self.until is not None:
            message.until.CopyFrom(timestamp(self.until))
        return message
