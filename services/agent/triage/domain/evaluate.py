"""The core of triage: which rules of an incident's kind fire on a set of feature values, and
what they decide. Shared by triage (the decision) and explain (the counterfactuals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.agent.triage.domain.decisions import (
    COMPARISONS,
    SEVERITIES,
    SEVERITY_WEIGHT,
    Fallback,
    Rule,
    RuleSet,
)

Values = Mapping[str, float]


@dataclass(frozen=True)
class Verdict:
    severity: str
    category: str
    confidence: float
    rule: Rule | None  # None: the fallback decided

    @property
    def score(self) -> float:
        return round(SEVERITY_WEIGHT[self.severity] * self.confidence, 6)


def features(snap: Mapping[str, Any], rules: RuleSet) -> dict[str, float]:
    """The snapshot's metrics plus the rule set's derived features."""
    metrics: dict[str, float] = dict(snap["metrics"])
    values = dict(metrics)
    for name, ratio in rules.features.items():
        numerator, denominator = metrics.get(ratio.numerator), metrics.get(ratio.denominator)
        if numerator is not None and denominator:
            values[name] = numerator / denominator
    return values


def fires(rule: Rule, values: Values) -> bool:
    if rule.metric is None or rule.comparison is None or rule.threshold is None:
        return True
    observed = values.get(rule.metric)
    return observed is not None and COMPARISONS[rule.comparison](observed, rule.threshold)


def matched(kind_rules: Sequence[Rule], values: Values) -> list[Rule]:
    return [rule for rule in kind_rules if fires(rule, values)]


def verdict(kind_rules: Sequence[Rule], values: Values, fallback: Fallback) -> Verdict:
    """The most severe matching rule wins, ties going to the earlier rule."""
    hits = matched(kind_rules, values)
    if not hits:
        return Verdict(fallback.severity, fallback.category, fallback.confidence, None)
    winner = min(hits, key=lambda rule: SEVERITIES.index(rule.severity))
    return Verdict(winner.severity, winner.category, winner.confidence, winner)
