"""Parsing and validating a rule set document (services/agent/triage/rules/*.json, or one an admin
puts). The document is data: its logic version carries a hash of its exact bytes, so an edited
document without a version bump still names different logic."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from services.agent.triage.domain.decisions import (
    COMPARISONS,
    RISKS,
    SEVERITIES,
    Fallback,
    Ratio,
    Recommendation,
    Rule,
    RuleSet,
)
from services.agent.triage.domain.kinds import Kind, KindError, check_name, parse_kinds
from services.agent.triage.domain.rule_fields import (
    RuleSetError as RuleSetError,  # where callers have always found it
)
from services.agent.triage.domain.rule_fields import (
    a_list,
    a_number,
    an_object,
    choice,
    text,
)

BASELINE = Path(__file__).resolve().parent.parent / "rules" / "baseline.json"


@dataclass(frozen=True)
class StoredRuleSet:
    version: int
    name: str
    logic_version: str
    sha256: str
    document: str
    reason: str
    created_by: str
    created_at: datetime


def load_rule_set(path: Path = BASELINE) -> RuleSet:
    return parse_rule_set(path.read_bytes())


def parse_rule_set(raw: bytes) -> RuleSet:
    """Raises RuleSetError naming the first problem (rule_fields reads every value)."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise RuleSetError(f"not a valid rule set: {exc}") from None
    try:
        return _rule_set(an_object(doc, "a rule set"), raw)
    except KindError as exc:
        raise RuleSetError(str(exc)) from None


def _rule_set(doc: dict[str, Any], raw: bytes) -> RuleSet:
    declared = an_object(doc.get("features", {}), "features")
    features = {name: _ratio(name, item) for name, item in declared.items()}
    listed = a_list(doc, "rules", "a rule set")
    rules = tuple(_rule(an_object(item, f"rule #{n}"), n) for n, item in enumerate(listed, 1))
    if len({rule.id for rule in rules}) != len(rules):
        raise RuleSetError("rule ids must be unique")
    kinds = parse_kinds(doc["kinds"]) if "kinds" in doc else _derived(rules, features)
    _rules_declared(rules, kinds, features)
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RuleSetError("'version' must be a positive integer")
    digest = hashlib.sha256(raw).hexdigest()
    return RuleSet(
        name=text(doc, "name", "a rule set"),
        version=version,
        digest=digest[:12],
        rules=rules,
        fallback=_fallback(an_object(doc.get("fallback", {}), "fallback")),
        features=features,
        sha256=digest,
        kinds=kinds,
    )


def _derived(rules: tuple[Rule, ...], features: dict[str, Ratio]) -> dict[str, Kind]:
    """The kinds of a document without a `kinds` object (versions stored before kinds were
    data): exactly the kinds its rules name, each with the metrics its rules read (a feature's
    two metrics for a feature), so a stored version keeps triaging what it always did."""
    metrics: dict[str, dict[str, None]] = {}
    for rule in rules:
        check_name("kind", rule.kind)
        named = metrics.setdefault(rule.kind, {})
        ratio = features.get(rule.metric or "")
        parts = [ratio.numerator, ratio.denominator] if ratio else [rule.metric]
        named.update(dict.fromkeys(part for part in parts if part is not None))
    return {
        kind: Kind(f"{kind} (declared by its rules)", tuple(named))
        for kind, named in metrics.items()
    }


def _rules_declared(
    rules: tuple[Rule, ...], kinds: dict[str, Kind], features: dict[str, Ratio]
) -> None:
    """Every rule names a declared kind and one of that kind's metrics or a feature: a typo in
    a published rule set is refused, not a rule that silently never fires."""
    for rule in rules:
        kind = kinds.get(rule.kind)
        if kind is None:
            raise RuleSetError(
                f"rule {rule.id}: kind {rule.kind!r} is not declared in 'kinds'"
                f" ({', '.join(kinds)})"
            )
        if rule.metric is not None and rule.metric not in (*kind.metrics, *features):
            raise RuleSetError(
                f"rule {rule.id}: metric {rule.metric!r} is neither a metric of kind"
                f" {rule.kind!r} ({', '.join(kind.metrics) or 'none'}) nor a feature"
            )


def _ratio(name: str, item: Any) -> Ratio:
    parts = an_object(item, f"feature {name!r}").get("ratio")
    if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        raise RuleSetError(f"feature {name!r}: 'ratio' must name two metrics")
    return Ratio(parts[0], parts[1])


def _fallback(item: dict[str, Any]) -> Fallback:
    default, where = Fallback(), "fallback"
    return Fallback(
        severity=choice(item, "severity", SEVERITIES, where)
        if "severity" in item
        else default.severity,
        category=text(item, "category", where) if "category" in item else default.category,
        confidence=a_number(item, "confidence", where, default.confidence),
    )


def _rule(item: dict[str, Any], n: int) -> Rule:
    where = f"rule {text(item, 'id', f'rule #{n}')}"
    rule = Rule(
        id=text(item, "id", where),
        kind=text(item, "kind", where),
        metric=None if item.get("metric") is None else text(item, "metric", where),
        comparison=item.get("comparison"),
        threshold=None if item.get("threshold") is None else a_number(item, "threshold", where),
        severity=choice(item, "severity", SEVERITIES, where),
        category=text(item, "category", where),
        confidence=a_number(item, "confidence", where),
        explanation=text(item, "explanation", where),
        recommendation=_recommendation(item.get("recommendation"), where),
    )
    if rule.metric is not None:
        choice(item, "comparison", tuple(COMPARISONS), where)
        if rule.threshold is None or not math.isfinite(rule.threshold):
            raise RuleSetError(f"rule {rule.id}: a metric rule needs a finite threshold")
    if not 0.0 <= rule.confidence <= 1.0:
        raise RuleSetError(f"rule {rule.id}: confidence must be between 0 and 1")
    return rule


def _recommendation(item: Any, where: str) -> Recommendation | None:
    if item is None:
        return None
    where = f"{where}: recommendation"
    item = an_object(item, where)
    parameters = an_object(item.get("parameters", {}), f"{where}: 'parameters'")
    return Recommendation(
        action=text(item, "action", where),
        risk=choice(item, "risk", RISKS, where),
        parameters=dict(parameters),
        rationale=text(item, "rationale", where),
    )


def stored_version(
    rules: RuleSet, raw: bytes, reason: str, created_by: str, now: datetime
) -> StoredRuleSet:
    return StoredRuleSet(
        version=rules.version,
        name=rules.name,
        logic_version=rules.logic_version,
        sha256=rules.sha256,
        document=raw.decode("utf-8"),
        reason=reason,
        created_by=created_by,
        created_at=now,
    )
