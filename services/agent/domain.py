"""Triage: a versioned rule set applied to an incident snapshot. Pure and deterministic: the
same snapshot and the same rules always give the same outcome, so any decision can be replayed."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.canonical import canonical_json, sha256_hex
from services.agent.incidents import NewIncident

SEVERITIES = ("P1", "P2", "P3", "P4")  # most severe first
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
    metric: str | None  # None: the incident's kind alone fires the rule
    comparison: str | None
    threshold: float | None
    severity: str
    category: str
    confidence: float
    explanation: str
    recommendation: Recommendation | None = None


@dataclass(frozen=True)
class Fallback:
    """The outcome when no rule matches."""

    severity: str = "P4"
    category: str = "unclassified"
    confidence: float = 0.5


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: str
    digest: str  # first 12 hex of the SHA-256 of the rule file's bytes
    rules: tuple[Rule, ...]
    fallback: Fallback = Fallback()

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
class Outcome:
    category: str
    severity: str
    confidence: float
    input_sha256: str
    rules_fired: tuple[RuleHit, ...] = ()
    recommendation: Recommendation | None = None
    winning_rule: str = ""


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


def triage(incident_snapshot: Mapping[str, Any], rules: RuleSet) -> Outcome:
    """Every matching rule is reported; the most severe wins, ties going to the earlier rule."""
    digest = sha256_hex(canonical_json(incident_snapshot))
    matched = [(rule, hit) for rule in rules.rules if (hit := _fire(rule, incident_snapshot))]
    if not matched:
        fallback = rules.fallback
        return Outcome(fallback.category, fallback.severity, fallback.confidence, digest)
    winner, _ = min(matched, key=lambda pair: SEVERITIES.index(pair[0].severity))
    return Outcome(
        category=winner.category,
        severity=winner.severity,
        confidence=winner.confidence,
        input_sha256=digest,
        rules_fired=tuple(hit for _, hit in matched),
        recommendation=_render(winner.recommendation, incident_snapshot),
        winning_rule=winner.id,
    )


def _fire(rule: Rule, snap: Mapping[str, Any]) -> RuleHit | None:
    if rule.kind != snap["kind"]:
        return None
    if rule.metric is None or rule.comparison is None or rule.threshold is None:
        return RuleHit(rule.id, "", 0.0, 0.0, f"{rule.kind} reported: {rule.explanation}")
    observed = snap["metrics"].get(rule.metric)
    if observed is None or not COMPARISONS[rule.comparison](observed, rule.threshold):
        return None
    because = f"{rule.metric} {_num(observed)} {rule.comparison} {_num(rule.threshold)}"
    return RuleHit(rule.id, rule.metric, rule.threshold, observed, f"{because}: {rule.explanation}")


def _render(template: Recommendation | None, snap: Mapping[str, Any]) -> Recommendation | None:
    if template is None:
        return None
    fields = {f"{{{name}}}": str(snap[name]) for name in ("subject", "desk", "source", "kind")}

    def fill(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for placeholder, text in fields.items():
            value = value.replace(placeholder, text)
        return value

    parameters = {name: fill(value) for name, value in template.parameters.items()}
    return Recommendation(template.action, template.risk, parameters, fill(template.rationale))


def _num(value: float) -> str:
    return f"{value:.15g}"
