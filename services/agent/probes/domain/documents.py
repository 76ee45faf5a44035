"""A definition as the JSON document stored in each version row, and back. The document is
what a version means, so it holds every field of the definition."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from services.agent.probes.domain.probes import IncidentTemplate, ProbeSpec, Reading, Rule


def document(spec: ProbeSpec) -> dict[str, Any]:
    return asdict(spec)


def spec_of(doc: dict[str, Any]) -> ProbeSpec:
    reading, rule, incident = doc["reading"], doc["rule"], doc["incident"]
    return ProbeSpec(
        name=doc["name"],
        url=doc["url"],
        reading=Reading(**{**reading, "labels": dict(reading["labels"])}),
        rule=Rule(**rule),
        interval_s=int(doc["interval_s"]),
        timeout_s=float(doc["timeout_s"]),
        incident=IncidentTemplate(**{**incident, "metrics": dict(incident["metrics"])}),
        description=doc.get("description", ""),
    )
