"""Probe definitions from ProbeService messages, and probes, versions and runs as messages."""

from __future__ import annotations

from runtime.errors import InvalidArgument
from runtime.proto_time import timestamp
from services.agent.probes.domain.probes import (
    JSON,
    PROMETHEUS,
    STALENESS,
    THRESHOLD,
    TIMESTAMP,
    IncidentTemplate,
    Probe,
    ProbeSpec,
    Reading,
    Rule,
    RunRecord,
    Version,
)
from tradeops.agent.v1 import probe_service_pb2 as pb


def spec_of(message: pb.ProbeDefinition) -> ProbeSpec:
    template = message.incident
    return ProbeSpec(
        name=message.name,
        url=message.url,
        reading=_reading(message),
        rule=_rule(message),
        interval_s=message.interval_s,
        timeout_s=message.timeout_s,
        incident=IncidentTemplate(
            kind=template.kind,
            desk=template.desk,
            subject=template.subject,
            summary=template.summary,
            metrics=dict(template.metrics),
            value_metric=template.value_metric or "observed",
        ),
        description=message.description,
    )


def _reading(message: pb.ProbeDefinition) -> Reading:
    which = message.WhichOneof("reading")
    if which == "json":
        return Reading(JSON, path=message.json.path)
    if which == "prometheus":
        labels = dict(message.prometheus.labels)
        return Reading(PROMETHEUS, metric=message.prometheus.metric, labels=labels)
    raise InvalidArgument("a reading is required: json (a JSON path) or prometheus")


def _rule(message: pb.ProbeDefinition) -> Rule:
    which = message.WhichOneof("rule")
    if which == "threshold":
        return Rule(THRESHOLD, op=message.threshold.op, value=message.threshold.value)
    if which == "staleness":
        rule = message.staleness
        return Rule(STALENESS, max_age_s=rule.max_age_s, value_is=rule.value_is or TIMESTAMP)
    raise InvalidArgument("a rule is required: threshold or staleness")


def definition(spec: ProbeSpec) -> pb.ProbeDefinition:
    message = pb.ProbeDefinition(
        name=spec.name,
        url=spec.url,
        description=spec.description,
        interval_s=spec.interval_s,
        timeout_s=spec.timeout_s,
        incident=pb.IncidentTemplate(
            kind=spec.incident.kind,
            desk=spec.incident.desk,
            subject=spec.incident.subject,
            summary=spec.incident.summary,
            metrics=dict(spec.incident.metrics),
            value_metric=spec.incident.value_metric,
        ),
    )
    if spec.reading.kind == JSON:
        message.json.path = spec.reading.path
    else:
        message.prometheus.metric = spec.reading.metric
        message.prometheus.labels.update(spec.reading.labels)
    if spec.rule.kind == THRESHOLD:
        message.threshold.op, message.threshold.value = spec.rule.op, spec.rule.value
    else:
        message.staleness.max_age_s = spec.rule.max_age_s
        message.staleness.value_is = spec.rule.value_is
    return message


def run(found: RunRecord) -> pb.ProbeRun:
    message = pb.ProbeRun(
        id=found.id,
        probe_id=found.probe_id,
        probe_name=found.probe_name,
        version=found.version,
        started_at=timestamp(found.started_at),
        status=found.status,
        error=found.error,
        duration_ms=found.duration_ms,
        incident_id=found.incident_id,
        incident_step=found.incident_step,
    )
    if found.value is not None:
        message.value = found.value
    return message


def version(found: Version) -> pb.ProbeVersion:
    return pb.ProbeVersion(
        version=found.version,
        change=found.change,
        enabled=found.enabled,
        definition=definition(found.spec),
        changed_by=found.changed_by,
        changed_at=timestamp(found.changed_at),
    )


def probe(found: Probe, versions: list[Version] | None = None) -> pb.Probe:
    message = pb.Probe(
        id=found.id,
        version=found.version,
        enabled=found.enabled,
        definition=definition(found.spec),
        changed_by=found.changed_by,
        changed_at=timestamp(found.changed_at),
        next_run_at=timestamp(found.next_run_at),
        open_incident_id=found.open_incident_id,
        versions=[version(v) for v in versions or ()],
    )
    if found.last_run is not None:
        message.last_run.CopyFrom(run(found.last_run))
    return message
