"""Domain objects to OpsService messages and back; used by the servicer modules beside it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import json_format, struct_pb2, timestamp_pb2

from runtime import proto_time
from runtime.errors import InvalidArgument
from services.ops.domain.actions import Action, State, TimelineEntry, Vote
from services.ops.domain.counting import tally
from services.ops.domain.escalation import EscalationPolicy, Level
from services.ops.domain.metrics import Metrics
from services.ops.domain.policy import Policy, Risk, RoleRequirement
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb


def action(found: Action) -> pb.Action:
    counted = tally(found)
    return pb.Action(
        id=found.id,
        kind=found.kind,
        parameters=struct(found.parameters),
        risk=risk_number(found.risk),
        state=pb.ActionState.Value(f"ACTION_STATE_{found.state}"),
        rationale=found.rationale,
        requested_by=found.requested_by,
        proposed_by=json_format.ParseDict(
            found.proposed_by, common_pb2.Actor(), ignore_unknown_fields=True
        ),
        incident_id=found.incident_id,
        decision_id=found.decision_id,
        source_ref=found.source_ref,
        approvals_required=found.approvals_required,
        approvals=counted.approvals,
        votes=[vote(v) for v in found.votes],
        created_at=timestamp(found.created_at),
        updated_at=timestamp(found.updated_at),
        policy=policy(found.policy),
        rejections=counted.rejections,
        approvals_missing=counted.approvals_missing,
        roles_missing=[
            pb.RoleRequirement(role=r.role, count=r.count) for r in counted.roles_missing
        ],
        needs=counted.needs,
        expires_at=timestamp(found.expires_at),
        valid_until=timestamp(found.valid_until),
        assignee=found.assignee,
        assignee_team=found.assignee_team,
        escalation_level=found.escalation_level,
        acknowledged_at=timestamp(found.acknowledged_at),
        compliance_relevant=found.compliance_relevant,
        parameters_version=found.parameters_version,
        execution_detail=found.execution_detail,
        cancel_reason=found.cancel_reason,
    )


def vote(cast: Vote) -> pb.Vote:
    return pb.Vote(
        voter=cast.voter,
        roles=sorted(cast.roles),
        approve=cast.approve,
        comment=cast.comment,
        at=timestamp(cast.at),
        parameters_version=cast.parameters_version,
        voided=cast.voided,
    )


def policy(found: Policy) -> pb.ApprovalPolicy:
    return pb.ApprovalPolicy(
        id=found.id,
        version=found.version,
        action_kind=found.action_kind,
        risk=risk_number(found.risk) if found.risk else pb.RISK_UNSPECIFIED,
        approvals_required=found.approvals_required,
        rejections_to_reject=found.rejections_to_reject,
        role_requirements=[
            pb.RoleRequirement(role=r.role, count=r.count) for r in found.role_requirements
        ],
        pending_ttl_s=found.pending_ttl_s,
        validity_s=found.validity_s,
        compliance_relevant=found.compliance_relevant,
        escalation_policy_id=found.escalation_policy_id,
        changed_by=found.changed_by,
        changed_at=timestamp(found.changed_at),
        change_reason=found.change_reason,
    )


def policy_from(message: pb.ApprovalPolicy) -> Policy:
    return Policy(
        id=message.id,
        action_kind=message.action_kind or "*",
        risk=risk(message.risk) if message.risk else None,
        approvals_required=message.approvals_required,
        rejections_to_reject=message.rejections_to_reject,
        role_requirements=tuple(
            RoleRequirement(r.role, r.count) for r in message.role_requirements
        ),
        pending_ttl_s=message.pending_ttl_s,
        validity_s=message.validity_s,
        compliance_relevant=message.compliance_relevant,
        escalation_policy_id=message.escalation_policy_id,
        change_reason=message.change_reason,
    )


def escalation_policy(found: EscalationPolicy) -> pb.EscalationPolicy:
    return pb.EscalationPolicy(
        id=found.id,
        version=found.version,
        levels=[
            pb.EscalationLevel(
                after_s=lv.after_s,
                notify=list(lv.notify),
                assign_to=lv.assign_to,
                assign_team=lv.assign_team,
            )
            for lv in found.levels
        ],
        repeat_limit=found.repeat_limit,
        remind_before_expiry_s=found.remind_before_expiry_s,
        changed_by=found.changed_by,
        changed_at=timestamp(found.changed_at),
    )


def escalation_policy_from(message: pb.EscalationPolicy) -> EscalationPolicy:
    return EscalationPolicy(
        id=message.id,
        levels=tuple(
            Level(lv.after_s, tuple(lv.notify), lv.assign_to, lv.assign_team)
            for lv in message.levels
        ),
        repeat_limit=message.repeat_limit,
        remind_before_expiry_s=message.remind_before_expiry_s,
    )


def entry(found: TimelineEntry) -> pb.TimelineEntry:
    return pb.TimelineEntry(
        id=found.id,
        action_id=found.action_id,
        at=timestamp(found.at),
        kind=found.kind,
        actor=found.actor,
        machine=found.machine,
        text=found.text,
        details=struct(found.details),
    )


def risk(number: pb.Risk.ValueType) -> Risk:
    try:
        return Risk(pb.Risk.Name(number).removeprefix("RISK_"))
    except ValueError:
        raise InvalidArgument("risk must be one of LOW, MEDIUM, HIGH, CRITICAL") from None


def risk_number(found: Risk) -> pb.Risk.ValueType:
    return pb.Risk.Value(f"RISK_{found}")


def state(number: pb.ActionState.ValueType) -> State:
    try:
        return State(pb.ActionState.Name(number).removeprefix("ACTION_STATE_"))
    except ValueError:
        raise InvalidArgument(f"unknown action state {number}") from None


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def timestamp(at: datetime | None) -> timestamp_pb2.Timestamp | None:
    return None if at is None else proto_time.timestamp(at)


def metrics(found: Metrics) -> pb.OpsMetrics:
    return pb.OpsMetrics(
        counts_by_state=found.counts_by_state,
        mtta_s=found.mtta_s,
        time_to_decision_s=found.time_to_decision_s,
        approval_latency_s=found.approval_latency_s,
        rejection_rate_by_policy=found.rejection_rate_by_policy,
        approvers=[
            pb.ApproverStats(
                subject=a.subject,
                votes=a.votes,
                approval_rate=a.approval_rate,
                median_decision_s=a.median_decision_s,
            )
            for a in found.approvers
        ],
        backlog=[pb.AgeBucket(from_s=lower, count=count) for lower, count in found.backlog],
    )
