"""Why a decision came out as it did: each feature's contribution to the score (leave one
out), and the nearest value of each feature at which the severity would change."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from services.agent.triage.domain.decisions import (
    SEVERITIES,
    Fallback,
    FeatureContribution,
    Ratio,
    Rule,
    SeverityChange,
)
from services.agent.triage.domain.evaluate import Values, matched, verdict


def contributions(
    kind_rules: Sequence[Rule], values: Values, fallback: Fallback, derived: Mapping[str, Ratio]
) -> tuple[FeatureContribution, ...]:
    """A feature's contribution: the score minus the score had it not been reported (a metric
    taking the features derived from it along)."""
    score = verdict(kind_rules, values, fallback).score
    fired = matched(kind_rules, values)
    result = []
    for name in sorted(values):
        gone = {name} | {f for f, r in derived.items() if name in (r.numerator, r.denominator)}
        without = {other: value for other, value in values.items() if other not in gone}
        own = [rule for rule in fired if rule.metric == name]
        worst = min(own, key=lambda rule: SEVERITIES.index(rule.severity)).id if own else ""
        drop = round(score - verdict(kind_rules, without, fallback).score, 6)
        result.append(FeatureContribution(name, values[name], drop, worst))
    return tuple(result)


def severity_changes(
    kind_rules: Sequence[Rule], values: Values, fallback: Fallback
) -> tuple[SeverityChange, ...]:
    """For each observed feature a rule reads: the nearest point above and below it where the
    severity differs, found by re-evaluating at each threshold and just beside it."""
    current = verdict(kind_rules, values, fallback).severity
    changes: list[SeverityChange] = []
    for name in sorted(
        {rule.metric for rule in kind_rules if rule.metric and rule.metric in values}
    ):
        points = _points(kind_rules, name)
        for direction in ("up", "down"):
            change = _nearest(kind_rules, values, fallback, name, points, direction, current)
            if change is not None:
                changes.append(change)
    return tuple(changes)


def _points(kind_rules: Sequence[Rule], name: str) -> list[tuple[float, Rule]]:
    own = [rule for rule in kind_rules if rule.metric == name and rule.threshold is not None]
    return sorted(((rule.threshold or 0.0, rule) for rule in own), key=lambda pair: pair[0])


def _nearest(
    kind_rules: Sequence[Rule],
    values: Values,
    fallback: Fallback,
    name: str,
    points: list[tuple[float, Rule]],
    direction: str,
    current: str,
) -> SeverityChange | None:
    observed, up = values[name], direction == "up"
    beside = math.inf if up else -math.inf
    ordered = points if up else list(reversed(points))
    for threshold, rule in ordered:
        beyond = math.nextafter(threshold, beside)
        for at, comparison in ((threshold, ">=" if up else "<="), (beyond, ">" if up else "<")):
            if (at <= observed) if up else (at >= observed):
                continue
            severity = verdict(kind_rules, {**values, name: at}, fallback).severity
            if severity != current:
                return SeverityChange(name, direction, comparison, threshold, severity, rule.id)
    return None
