"""Contract messages of ops and export turned into the views the checks read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from services.agent.compliance.domain.views import (
    ActionView,
    EscalationView,
    ExportView,
    PolicyView,
    VoteView,
)
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.ops.v1 import ops_service_pb2 as ops_pb


def when(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def maybe(message: object, name: str) -> datetime | None:
    has = getattr(message, "HasField")  # noqa: B009 - typed stubs name fields as literals
    return when(getattr(message, name)) if has(name) else None


def _name(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix)


def action(
    message: ops_pb.Action, parameters_authors: tuple[tuple[int, str], ...] = ()
) -> ActionView:
    return ActionView(
        id=message.id,
        kind=message.kind,
        risk=_name(ops_pb.Risk.Name(message.risk), "RISK_"),
        state=_name(ops_pb.ActionState.Name(message.state), "ACTION_STATE_"),
        requested_by=message.requested_by,
        proposed_by=message.proposed_by.subject,
        policy=policy(message.policy),
        votes=tuple(vote(v) for v in message.votes),
        parameters_version=message.parameters_version,
        compliance_relevant=message.compliance_relevant,
        created_at=when(message.created_at),
        expires_at=maybe(message, "expires_at"),
        escalation_level=message.escalation_level,
        acknowledged_at=maybe(message, "acknowledged_at"),
        parameters_authors=parameters_authors,
    )


def parameters_authors(entries: Iterable[ops_pb.TimelineEntry]) -> tuple[tuple[int, str], ...]:
    """(parameters version, actor) of each parameter change on a timeline."""
    return tuple(
        (int(e.details.fields["parameters_version"].number_value), e.actor)
        for e in entries
        if e.kind == "parameters" and "parameters_version" in e.details.fields
    )


def vote(message: ops_pb.Vote) -> VoteView:
    return VoteView(
        voter=message.voter,
        roles=frozenset(message.roles),
        approve=message.approve,
        at=when(message.at),
        parameters_version=message.parameters_version,
        voided=message.voided,
    )


def policy(message: ops_pb.ApprovalPolicy) -> PolicyView:
    return PolicyView(
        id=message.id,
        version=message.version,
        approvals_required=message.approvals_required,
        role_requirements=tuple((r.role, r.count) for r in message.role_requirements),
        compliance_relevant=message.compliance_relevant,
        escalation_policy_id=message.escalation_policy_id,
    )


def escalation(message: ops_pb.EscalationPolicy) -> EscalationView:
    return EscalationView(
        id=message.id,
        version=message.version,
        level_after_s=tuple(level.after_s for level in message.levels),
        repeat_limit=message.repeat_limit,
    )


def export(message: export_pb.Export) -> ExportView:
    return ExportView(
        id=message.id,
        kind=message.kind,
        state=_name(export_pb.ExportState.Name(message.state), "EXPORT_STATE_"),
        created_at=when(message.created_at),
        delivered_at=maybe(message, "delivered_at"),
        verified_at=maybe(message, "verified_at"),
        destination=message.destination,
    )
