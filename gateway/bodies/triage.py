"""Bodies and query strings of /agent/triage: one incident, a batch, feedback on a decision,
rule sets, and the triage metrics."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from gateway.bodies.base import (
    Id,
    QueryModel,
    Rfc3339,
    StrictModel,
    check_window,
    checked_json,
    copy_window,
    example,
)
from gateway.bodies.incidents import INCIDENT, NewIncident
from runtime.canonical import canonical_json
from tradeops.agent.v1 import agent_service_pb2 as agent_pb


class TriageRequest(StrictModel):
    model_config = example({"incident_id": "0b7d8f6e-2c1a-4e8b-9f3d-5a6c7e8f9a0b"})

    incident_id: Id

    def to_message(self) -> agent_pb.TriageIncidentRequest:
        return agent_pb.TriageIncidentRequest(incident_id=str(self.incident_id))


MAX_BATCH = 1000  # TriageBatch's own limit


Severity = Literal["P1", "P2", "P3", "P4"]


Category = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]


Why = Annotated[str, Field(max_length=1000)]


RuleDocument = Annotated[
    dict[Annotated[str, Field(max_length=128)], Any],
    Field(min_length=1, max_length=256, description="The rule file's JSON object"),
    AfterValidator(checked_json),
]


class IncidentBatch(StrictModel):
    model_config = example({"incidents": [INCIDENT]})

    incidents: Annotated[list[NewIncident], Field(min_length=1, max_length=MAX_BATCH)]

    def to_message(self) -> agent_pb.TriageBatchRequest:
        return agent_pb.TriageBatchRequest(incidents=[i.to_message() for i in self.incidents])


CORRECTIONS = ("corrected_severity", "corrected_category")
NOT_NULL = {"not": {"type": "null"}}


class FeedbackBody(StrictModel):
    """An override needs a reason and at least one correction; an agreement takes none."""

    # _consistent's rule, stated in the schema too so that clients can know it up front.
    model_config = example(
        {"verdict": "override", "corrected_severity": "P1", "reason": "the whole book is stale"},
        **{
            "if": {"properties": {"verdict": {"const": "agree"}}},
            "then": {"properties": {f: {"type": "null"} for f in CORRECTIONS}},
            "else": {
                "required": ["reason"],
                "properties": {"reason": {"pattern": r"\S"}},
                "anyOf": [{"required": [f], "properties": {f: NOT_NULL}} for f in CORRECTIONS],
            },
        },
    )

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


class TriageMetricsQuery(QueryModel):
    since: Rfc3339 | None = Field(None, description="Decisions made at or after (RFC 3339)")
    until: Rfc3339 | None = Field(None, description="Decisions made before (RFC 3339)")

    @model_validator(mode="after")
    def _ordered(self) -> TriageMetricsQuery:
        check_window(self.since, self.until)
        return self

    def to_message(self) -> agent_pb.GetTriageMetricsRequest:
        message = agent_pb.GetTriageMetricsRequest()
        copy_window(message, self.since, self.until)
        return message
