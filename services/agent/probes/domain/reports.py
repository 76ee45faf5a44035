"""The incident report a failing probe makes: its template filled in with the run's value and
error, its metrics, the probe as source. Checked when the probe is defined, so the intake never
refuses it when the desk system fails."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from runtime.errors import InvalidArgument
from services.agent.probes.domain.probes import FAILING, Observation, ProbeSpec
from services.agent.triage import MAX_SUMMARY, NewIncident, accept


def check_report(spec: ProbeSpec, version: int, now: datetime, kinds: Collection[str]) -> None:
    """Raises InvalidArgument when the intake would refuse the incident this probe opens (for
    example two metric names equal once normalised), so it is refused when defined, not when
    the desk system fails."""
    try:
        accept([report_of(spec, version, Observation(FAILING, 0.0, "", 0), now)], now, kinds)
    except InvalidArgument as exc:
        raise InvalidArgument(f"the incident this probe would open is invalid: {exc}") from None


def report_of(spec: ProbeSpec, version: int, seen: Observation, now: datetime) -> NewIncident:
    template = spec.incident
    metrics = dict(template.metrics)
    if seen.value is not None:
        metrics[template.value_metric] = seen.value
    return NewIncident(
        source=f"probe:{spec.name}",
        kind=template.kind,
        desk=template.desk,
        subject=template.subject,
        summary=summary(spec, version, seen)[:MAX_SUMMARY],
        metrics=metrics,
        observed_at=now,
    )


def summary(spec: ProbeSpec, version: int, seen: Observation) -> str:
    """The template filled in (validation allowed only these names), then why it failed."""
    values = {
        "probe": spec.name,
        "version": version,
        "url": spec.url,
        "value": value_text(seen),
        "error": seen.error,
    }
    text = spec.incident.summary.format_map(values)
    return text if "{error}" in spec.incident.summary else f"{text} ({seen.error})"


def value_text(seen: Observation) -> str:
    return "n/a" if seen.value is None else f"{seen.value:g}"
