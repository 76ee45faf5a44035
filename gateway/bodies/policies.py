"""Bodies and query strings of /agent/ops/policies: approval and escalation policies, and the
approval metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gateway.bodies.actions import Risk
from gateway.bodies.base import (
    QueryModel,
    Rfc3339,
    StrictModel,
    Who,
    check_window,
    copy_window,
    example,
)
from gateway.rest_json import number_of
from tradeops.ops.v1 import ops_service_pb2 as pb

YEAR_S = 366 * 86400  # durations are bounded so the service's date arithmetic cannot overflow


POLICY_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


PolicyId = Annotated[str, Field(min_length=1, max_length=64, pattern=POLICY_ID)]


Seconds = Annotated[int, Field(ge=1, le=YEAR_S)]


Count = Annotated[int, Field(ge=1, le=100)]


Destination = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]


class RoleRequirement(StrictModel):
    role: Literal["ops", "compliance", "admin"]
    count: Count

    def to_message(self) -> pb.RoleRequirement:
        return pb.RoleRequirement(role=self.role, count=self.count)


class ApprovalPolicyBody(StrictModel):
    model_config = example(
        {
            "action_kind": "failover_market_data_feed",
            "risk": "HIGH",
            "approvals_required": 2,
            "rejections_to_reject": 1,
            "role_requirements": [{"role": "ops", "count": 1}],
            "pending_ttl_s": 3600,
            "validity_s": 900,
            "change_reason": "two approvers for feed failovers",
        }
    )

    action_kind: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^\S+$", description='"*": any kind')
    ] = "*"
    risk: Risk | None = Field(None, description="null: any risk")
    approvals_required: Count = Field(description="M: distinct approvals needed")
    rejections_to_reject: Count = Field(description="K: rejections that reject")
    role_requirements: Annotated[list[RoleRequirement], Field(max_length=3)] = Field(
        default_factory=list
    )
    pending_ttl_s: Seconds = Field(description="A pending action expires after this long")
    validity_s: Seconds = Field(description="An approved action may start executing this long")
    compliance_relevant: bool = False
    escalation_policy_id: Annotated[str, Field(max_length=64, pattern=f"^$|{POLICY_ID}")] = ""
    change_reason: Annotated[str, Field(min_length=1, max_length=1000, pattern=r"\S")]

    @field_validator("role_requirements")
    @classmethod
    def _one_per_role(cls, value: list[RoleRequirement]) -> list[RoleRequirement]:
        if len({r.role for r in value}) < len(value):
            raise ValueError("name each role once")
        return value

    def to_message(self, policy_id: str) -> pb.PutPolicyRequest:
        fields = self.model_dump(exclude={"risk", "role_requirements"})
        policy = pb.ApprovalPolicy(
            id=policy_id,
            risk=number_of(pb.Risk, self.risk or "UNSPECIFIED"),
            role_requirements=[r.to_message() for r in self.role_requirements],
            **fields,
        )
        return pb.PutPolicyRequest(policy=policy)


class EscalationLevel(StrictModel):
    after_s: Seconds = Field(description="After the proposal (level 1) or the previous level")
    notify: Annotated[list[Destination], Field(max_length=16)] = Field(default_factory=list)
    assign_to: Who = ""
    assign_team: Who = ""

    def to_message(self) -> pb.EscalationLevel:
        return pb.EscalationLevel(**self.model_dump())


class EscalationPolicyBody(StrictModel):
    model_config = example(
        {
            "levels": [
                {"after_s": 300, "notify": ["pager:md-support"]},
                {"after_s": 900, "assign_team": "md-leads"},
            ],
            "repeat_limit": 1,
        }
    )

    levels: Annotated[list[EscalationLevel], Field(min_length=1, max_length=20)]
    repeat_limit: Annotated[int, Field(ge=0, le=100)] = 0
    remind_before_expiry_s: Annotated[int, Field(ge=0, le=YEAR_S)] = 0

    def to_message(self, policy_id: str) -> pb.PutEscalationPolicyRequest:
        policy = pb.EscalationPolicy(
            id=policy_id,
            levels=[level.to_message() for level in self.levels],
            repeat_limit=self.repeat_limit,
            remind_before_expiry_s=self.remind_before_expiry_s,
        )
        return pb.PutEscalationPolicyRequest(policy=policy)


class PolicyQuery(QueryModel):
    include_history: bool = Field(False, description="Every version, not only the current ones")

    def to_message(self) -> pb.ListPoliciesRequest:
        return pb.ListPoliciesRequest(include_history=self.include_history)


class MetricsQuery(QueryModel):
    since: Rfc3339 | None = Field(None, description="Actions proposed at or after (RFC 3339)")
    until: Rfc3339 | None = Field(None, description="Actions proposed before (RFC 3339)")

    @model_validator(mode="after")
    def _ordered(self) -> MetricsQuery:
        check_window(self.since, self.until)
        return self

    def to_message(self) -> pb.GetMetricsRequest:
        message = pb.GetMetricsRequest()
        copy_window(message, self.since, self.until)
        return message
