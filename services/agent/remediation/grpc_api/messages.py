"""RemediationService messages: plans, their steps with the dry run, and executions with their
delivery attempts, from the domain objects the use cases return."""

from __future__ import annotations

from google.protobuf import struct_pb2

from runtime.proto_time import timestamp as _timestamp
from services.agent.remediation.domain.executions import ExecutionRecord
from services.agent.remediation.domain.plans import Plan, PlannedStep, dry_run_dict
from tradeops.agent.v1 import remediation_service_pb2 as pb


def plan_message(plan: Plan) -> pb.RemediationPlan:
    return pb.RemediationPlan(
        decision_id=plan.decision_id,
        incident_id=plan.incident_id,
        category=plan.category,
        severity=plan.severity,
        playbook_name=plan.playbook_name,
        playbook_version=plan.playbook_version,
        steps=[_step(step) for step in plan.steps],
        planned_by=plan.planned_by,
        planned_at=_timestamp(plan.planned_at),
    )


def _step(step: PlannedStep) -> pb.PlannedAction:
    parameters = struct_pb2.Struct()
    parameters.update(dict(step.parameters))
    dry_run = dry_run_dict(step.dry_run)
    return pb.PlannedAction(
        step_id=step.step_id,
        kind=step.kind,
        parameters=parameters,
        risk=step.risk,
        rationale=step.rationale,
        dry_run=pb.DryRun(
            model=dry_run["model"],
            summary=dry_run["summary"],
            effects=[pb.PredictedEffect(**effect) for effect in dry_run["effects"]],
            impacts=dry_run["impacts"],
            assumptions=dry_run["assumptions"],
        ),
        source_ref=step.source_ref,
        action_id=step.action_id or "",
        proposal_error=step.proposal_error,
    )


def execution_message(record: ExecutionRecord) -> pb.Execution:
    message = pb.Execution(
        id=record.id,
        action_id=record.action_id,
        kind=record.kind,
        executor=record.executor,
        state=record.state,
        detail=record.detail,
        idempotency_key=record.idempotency_key,
        attempts=[
            pb.ExecutionAttempt(
                number=a.number,
                at=_timestamp(a.at),
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in record.attempts
        ],
    )
    for name in ("started_at", "finished_at", "reported_at"):
        moment = getattr(record, name)
        if moment is not None:
            getattr(message, name).CopyFrom(_timestamp(moment))
    return message
