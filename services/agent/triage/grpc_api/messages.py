"""Domain objects to and from AgentService messages."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from runtime.canonical import canonical_json
from runtime.proto_time import timestamp
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.feedback import Feedback, TriageMetrics
from services.agent.triage.domain.incidents import Incident, NewIncident
from services.agent.triage.domain.ruleset import StoredRuleSet
from services.agent.triage.service.replay import Replay
from tradeops.agent.v1 import agent_service_pb2 as pb


def new_incident(request: pb.CreateIncidentRequest, now: datetime) -> NewIncident:
    return NewIncident(
        source=request.source,
        kind=request.kind,
        desk=request.desk,
        subject=request.subject,
        summary=request.summary,
        metrics=dict(request.metrics),
        observed_at=request.observed_at.ToDatetime(tzinfo=UTC)
        if request.HasField("observed_at")
        else now,
        venue=request.venue,
        instrument=request.instrument,
    )


def incident_message(incident: Incident) -> pb.Incident:
    return pb.Incident(
        id=incident.id,
        source=incident.source,
        kind=incident.kind,
        desk=incident.desk,
        subject=incident.subject,
        summary=incident.summary,
        metrics=dict(incident.metrics),
        observed_at=timestamp(incident.observed_at),
        created_at=timestamp(incident.created_at),
        created_by=incident.created_by,
        venue=incident.venue,
        instrument=incident.instrument,
        fingerprint=incident.fingerprint,
        occurrences=incident.occurrences,
        last_seen_at=timestamp(incident.last_seen_at or incident.created_at),
        correlation_id=incident.correlation_id,
        related_incident_ids=list(incident.related),
        deduplicated=incident.deduplicated,
        resolved_at=timestamp(incident.resolved_at) if incident.resolved_at else None,
        resolution=incident.resolution,
    )


def decision_message(decision: Decision) -> pb.TriageDecision:
    outcome, recommendation = decision.outcome, decision.outcome.recommendation
    return pb.TriageDecision(
        id=decision.id,
        incident_id=decision.incident_id,
        category=outcome.category,
        severity=outcome.severity,
        confidence=outcome.confidence,
        input_sha256=outcome.input_sha256,
        logic_name=decision.logic_name,
        logic_version=decision.logic_version,
        rules_fired=[pb.RuleHit(**vars(hit)) for hit in outcome.rules_fired],
        recommended_action=recommendation.action if recommendation else "",
        recommended_risk=recommendation.risk if recommendation else "",
        action_id=decision.action_id or "",
        created_at=timestamp(decision.created_at),
        requested_by=decision.requested_by,
        feature_contributions=[pb.FeatureContribution(**vars(c)) for c in outcome.contributions],
        severity_changes=[pb.SeverityChange(**vars(c)) for c in outcome.severity_changes],
        score=outcome.score,
        evaluation_us=outcome.evaluation_us,
        output_sha256=outcome.output_sha256,
        winning_rule=outcome.winning_rule,
        input_snapshot_json=canonical_json(decision.input_snapshot),
    )


def replay_message(result: Replay) -> pb.ReplayResult:
    return pb.ReplayResult(
        decision_id=result.decision_id,
        identical=result.identical,
        input_intact=result.input_intact,
        logic_version=result.logic_version,
        stored_output_sha256=result.stored_output_sha256,
        replayed_output_sha256=result.replayed_output_sha256,
        replayed=decision_message(result.replayed),
    )


def feedback_message(item: Feedback) -> pb.Feedback:
    values = vars(item) | {"created_at": timestamp(item.created_at)}
    return pb.Feedback(**values)


def metrics_message(metrics: TriageMetrics) -> pb.TriageMetrics:
    versions = [
        pb.LogicVersionMetrics(**vars(counts), override_rate=counts.override_rate)
        for counts in metrics.by_logic_version
    ]
    return pb.TriageMetrics(
        decisions=metrics.decisions,
        by_severity=metrics.by_severity,
        by_category=metrics.by_category,
        by_logic_version=versions,
    )


def rule_set_message(stored: StoredRuleSet, active: int, *, document: bool) -> pb.RuleSetVersion:
    values = vars(stored) | {"created_at": timestamp(stored.created_at)}
    if not document:
        values["document"] = ""
    return pb.RuleSetVersion(**values, active=stored.version == active)


def optional_time(stamp: Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None
