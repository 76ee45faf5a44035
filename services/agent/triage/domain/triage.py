"""Triage: a versioned rule set applied to an incident snapshot. Pure and deterministic: the
same snapshot and the same rules always give the same output (and output_sha256), so any
decision can be replayed. Only the evaluation time differs, and it is kept out of the hash."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from runtime.canonical import canonical_json, sha256_hex
from services.agent.triage.domain.decisions import Outcome, Recommendation, Rule, RuleHit, RuleSet
from services.agent.triage.domain.evaluate import Values, features, matched, verdict
from services.agent.triage.domain.explain import contributions, severity_changes

Timer = Callable[[], float]
PLACEHOLDERS = ("subject", "desk", "source", "kind", "venue", "instrument")


def triage(
    incident_snapshot: Mapping[str, Any], rules: RuleSet, timer: Timer = time.perf_counter
) -> Outcome:
    """Every matching rule is reported; the most severe wins, ties going to the earlier rule."""
    started = timer()
    values = features(incident_snapshot, rules)
    kind_rules = rules.by_kind.get(incident_snapshot["kind"], ())
    decided = verdict(kind_rules, values, rules.fallback)
    winner = decided.rule
    outcome = Outcome(
        category=decided.category,
        severity=decided.severity,
        confidence=decided.confidence,
        input_sha256=sha256_hex(canonical_json(incident_snapshot)),
        rules_fired=tuple(_hit(rule, values) for rule in matched(kind_rules, values)),
        recommendation=_render(winner.recommendation, incident_snapshot) if winner else None,
        winning_rule=winner.id if winner else "",
        score=decided.score,
        contributions=contributions(kind_rules, values, rules.fallback, rules.features),
        severity_changes=severity_changes(kind_rules, values, rules.fallback),
    )
    digest = output_sha256(outcome)
    elapsed = round((timer() - started) * 1_000_000)
    return replace(outcome, output_sha256=digest, evaluation_us=elapsed)


def output_sha256(outcome: Outcome) -> str:
    """The hash of everything the rules decided; timing and the hash itself excluded."""
    return sha256_hex(canonical_json(output_document(outcome, hashed_only=True)))


def output_document(outcome: Outcome, *, hashed_only: bool = False) -> dict[str, Any]:
    """The outcome as JSON data (dataclasses.asdict, written out: this is the hot path)."""
    rec = outcome.recommendation
    document: dict[str, Any] = {
        "category": outcome.category,
        "severity": outcome.severity,
        "confidence": outcome.confidence,
        "input_sha256": outcome.input_sha256,
        "rules_fired": [hit_document(hit) for hit in outcome.rules_fired],
        "recommendation": None
        if rec is None
        else {
            "action": rec.action,
            "risk": rec.risk,
            "parameters": dict(rec.parameters),
            "rationale": rec.rationale,
        },
        "winning_rule": outcome.winning_rule,
        "score": outcome.score,
        "contributions": [
            {
                "feature": c.feature,
                "value": c.value,
                "contribution": c.contribution,
                "rule_id": c.rule_id,
            }
            for c in outcome.contributions
        ],
        "severity_changes": [
            {
                "feature": c.feature,
                "direction": c.direction,
                "comparison": c.comparison,
                "value": c.value,
                "severity": c.severity,
                "rule_id": c.rule_id,
            }
            for c in outcome.severity_changes
        ],
    }
    if not hashed_only:
        document |= {"output_sha256": outcome.output_sha256, "evaluation_us": outcome.evaluation_us}
    return document


def hit_document(hit: RuleHit) -> dict[str, Any]:
    return {
        "rule_id": hit.rule_id,
        "metric": hit.metric,
        "threshold": hit.threshold,
        "observed": hit.observed,
        "explanation": hit.explanation,
    }


def _hit(rule: Rule, values: Values) -> RuleHit:
    if rule.metric is None or rule.comparison is None or rule.threshold is None:
        return RuleHit(rule.id, "", 0.0, 0.0, f"{rule.kind} reported: {rule.explanation}")
    observed = values[rule.metric]
    because = f"{rule.metric} {_num(observed)} {rule.comparison} {_num(rule.threshold)}"
    return RuleHit(rule.id, rule.metric, rule.threshold, observed, f"{because}: {rule.explanation}")


def _render(template: Recommendation | None, snap: Mapping[str, Any]) -> Recommendation | None:
    if template is None:
        return None
    fields = {f"{{{name}}}": str(snap.get(name, "")) for name in PLACEHOLDERS}

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
