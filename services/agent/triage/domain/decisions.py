"""Triage's data: a versioned rule set, the snapshot it reads and the outcome it produces.
Plain dataclasses; the evaluation is in domain.triage and domain.explain."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.domain.kinds import Kind

SEVERITIES = ("P1", "P2", "P3", "P4")  # most severe first
SEVERITY_WEIGHT = {"P1": 1.0, "P2": 0.75, "P3": 0.5, "P4": 0.25}
RISKS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


def snapshot(incident: NewIncident) -> dict[str, Any]:
    """Exactly what the rules see; its canonical JSON is hashed into the decision."""
    return {
        "kind": incident.kind,
        "subject": incident.subject,
        "desk": incident.desk,
        "source": incident.source,
        "venue": incident.venue,
        "instrument": incident.instrument,
        "metrics": {name: float(value) for name, value in incident.metrics.items()},
        "observed_at": incident.observed_at.astimezone(UTC).isoformat(),
    }


@dataclass(frozen=True)
class Recommendation:
    action: str
    risk: str
    parameters: Mapping[str, Any]
    rationale: str


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    metric: str | None  # a metric or derived feature; None: the kind alone fires the rule
    comparison: str | None
    threshold: float | None
    severity: str
    category: str
    confidence: float
    explanation: str
    recommendation: Recommendation | None = None


@dataclass(frozen=True)
class Ratio:
    """A derived feature: numerator / denominator, both metrics (absent when either is, or
    when the denominator is zero)."""

    numerator: str
    denominator: str


@dataclass(frozen=True)
class Fallback:
    """The outcome when no rule matches."""

    severity: str = "P4"
    category: str = "unclassified"
    confidence: float = 0.5


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: int
    digest: str  # first 12 hex of the SHA-256 of the rule file's bytes
    rules: tuple[Rule, ...]
    fallback: Fallback = Fallback()
    features: Mapping[str, Ratio] = field(default_factory=dict)
    sha256: str = ""
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # the incident kinds intake accepts
    by_kind: Mapping[str, tuple[Rule, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        grouped: dict[str, tuple[Rule, ...]] = {}
        for rule in self.rules:
            grouped[rule.kind] = (*grouped.get(rule.kind, ()), rule)
        object.__setattr__(self, "by_kind", grouped)

    @property
    def logic_version(self) -> str:
        """Names the exact logic: an edited file without a version bump still differs."""
        return f"{self.version}+{self.digest}"


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    metric: str
    threshold: float
    observed: float
    explanation: str


@dataclass(frozen=True)
class FeatureContribution:
    feature: str
    value: float
    contribution: float
    rule_id: str


@dataclass(frozen=True)
class SeverityChange:
    feature: str
    direction: str  # "up": the feature rising to `value`; "down": falling to it
    comparison: str
    value: float
    severity: str
    rule_id: str


@dataclass(frozen=True)
class Outcome:
    category: str
    severity: str
    confidence: float
    input_sha256: str
    rules_fired: tuple[RuleHit, ...] = ()
    recommendation: Recommendation | None = None
    winning_rule: str = ""
    score: float = 0.0
    contributions: tuple[FeatureContribution, ...] = ()
    severity_changes: tuple[SeverityChange, ...] = ()
    output_sha256: str = ""
    evaluation_us: int = field(default=0, compare=False)  # timing: recorded, never hashed


@dataclass(frozen=True)
class Decision:
    id: str
    incident_id: str
    outcome: Outcome
    logic_name: str
    logic_version: str
    requested_by: str
    created_at: datetime
    action_id: str | None = None
    input_snapshot: Mapping[str, Any] = field(default_factory=dict, compare=False)
