"""A probe definition as plain data, what one run observed, and a stored probe with its
schedule and incident state. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

JSON, PROMETHEUS = "json", "prometheus"
THRESHOLD, STALENESS = "threshold", "staleness"
TIMESTAMP, AGE = "timestamp", "age"
OK, FAILING = "ok", "failing"


@dataclass(frozen=True)
class Reading:
    """Where the observed value is: a JSON path into a JSON body (`$.a.b[0]`), or a Prometheus
    text-format sample (metric name, and labels the sample must carry)."""

    kind: str
    path: str = ""
    metric: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """threshold: the probe fails when `observed <op> value`. staleness: the reading is a
    timestamp (unix seconds or ISO-8601) or an age in seconds, and the probe fails when it is
    older than max_age_s."""

    kind: str
    op: str = ""
    value: float = 0.0
    max_age_s: float = 0.0
    value_is: str = TIMESTAMP


@dataclass(frozen=True)
class IncidentTemplate:
    """The incident a failing probe opens. The summary may name {probe}, {version}, {url},
    {value} and {error}; the observed value is reported as metric `value_metric`."""

    kind: str
    desk: str
    subject: str
    summary: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    value_metric: str = "observed"


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    url: str
    reading: Reading
    rule: Rule
    interval_s: int
    timeout_s: float
    incident: IncidentTemplate
    description: str = ""


@dataclass(frozen=True)
class Observation:
    """What one run saw: ok or failing, the value read (None when nothing could be read) and
    why it failed (an HTTP error, a timeout, an unparseable body, or the rule)."""

    status: str
    value: float | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class RunRecord:
    id: str
    probe_id: str
    probe_name: str
    version: int
    started_at: datetime
    status: str
    value: float | None
    error: str
    duration_ms: int
    incident_id: str
    incident_step: str  # "opened", "updated", "recovered" or ""


def identity(name: str, version: int) -> str:
    """The automation a probe version's steps are done as."""
    return f"probe:{name}@v{version}"


@dataclass(frozen=True)
class Probe:
    id: str
    version: int
    enabled: bool
    spec: ProbeSpec
    changed_by: str
    changed_at: datetime
    next_run_at: datetime
    open_incident_id: str = ""
    last_run: RunRecord | None = None

    @property
    def requester(self) -> str:
        """Who asks for what this version causes (its incident, triage and proposed action):
        the admin who last changed or enabled it, so they cannot approve what their probe
        proposes. A version with no recorded person stays its own requester."""
        author = self.changed_by.strip()
        if not author or author.startswith("system:"):
            return identity(self.spec.name, self.version)
        return author


@dataclass(frozen=True)
class Version:
    """One kept version of a definition: who changed what, when."""

    probe_id: str
    version: int
    change: str  # "created", "changed" or "disabled"
    enabled: bool
    spec: ProbeSpec
    changed_by: str
    changed_at: datetime
