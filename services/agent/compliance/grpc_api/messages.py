"""Runs, results and summaries as ComplianceService messages."""

from __future__ import annotations

from google.protobuf import struct_pb2

from runtime.proto_time import timestamp
from services.agent.compliance.domain.checks import Check, Finding
from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.domain.summaries import Summary
from tradeops.agent.v1 import compliance_service_pb2 as pb


def check(found: Check) -> pb.Check:
    return pb.Check(id=found.id, version=found.version, description=found.description)


def finding(found: Finding) -> pb.Finding:
    facts = struct_pb2.Struct()
    facts.update(dict(found.facts))
    return pb.Finding(ref=found.ref, reason=found.reason, facts=facts)


def result(found: CheckResult) -> pb.CheckResult:
    return pb.CheckResult(
        id=found.id,
        run_id=found.run_id,
        check_id=found.check_id,
        check_version=found.check_version,
        description=found.description,
        status=found.status,
        examined=found.examined,
        evidence=[finding(f) for f in found.evidence],
        detail=found.detail,
        incident_id=found.incident_id or "",
        checked_at=timestamp(found.checked_at),
    )


def run(found: Run) -> pb.ComplianceRun:
    return pb.ComplianceRun(
        id=found.id,
        trigger=found.trigger,
        requested_by=found.requested_by,
        started_at=timestamp(found.started_at),
        finished_at=timestamp(found.finished_at),
        ok=found.ok,
        results=[result(r) for r in found.results],
    )


def _counts(pairs: list[tuple[str, int]]) -> list[pb.Count]:
    return [pb.Count(key=key, count=count) for key, count in pairs]


def summary(found: Summary) -> pb.AuditSummary:
    figures, bound = found.figures, found.bound
    return pb.AuditSummary(
        id=found.id,
        since=timestamp(found.since),
        until=timestamp(found.until),
        first_seq=figures.first_seq,
        last_seq=figures.last_seq,
        record_count=figures.record_count,
        checkpoint_size=bound.size if bound.root else 0,
        checkpoint_root=bound.root,
        checkpoint_key_id=bound.key_id,
        by_action=_counts(figures.by_action),
        by_actor=_counts(figures.by_actor),
        by_outcome=_counts(figures.by_outcome),
        approve_votes=figures.approve_votes,
        reject_votes=figures.reject_votes,
        actions_approved=figures.actions_approved,
        actions_rejected=figures.actions_rejected,
        overrides=figures.overrides,
        after_hours=figures.after_hours,
        after_hours_by_actor=_counts(figures.after_hours_by_actor),
        denied=figures.denied,
        denied_by_actor=_counts(figures.denied_by_actor),
        spikes=[
            pb.Spike(
                action=s.action,
                bucket_start=timestamp(s.bucket_start),
                count=s.count,
                baseline_mean=s.baseline_mean,
                baseline_sd=s.baseline_sd,
            )
            for s in figures.spikes
        ],
        narrative=found.narrative,
        narrator=found.narrator,
        llm_model=found.llm.model if found.llm else "",
        llm_prompt=found.llm.prompt if found.llm else "",
        llm_output=found.llm.output if found.llm else "",
        desk_hours=found.desk_hours,
        requested_by=found.requested_by,
        created_at=timestamp(found.created_at),
        log_size=bound.log_size,
    )
