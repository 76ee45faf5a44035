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


class RuleSetError(ValueError):
    """The document is malformed; the message names the first problem."""


def load_rule_set(path: Path = BASELINE) -> RuleSet:
    return parse_rule_set(path.read_bytes())


def parse_rule_set(raw: bytes) -> RuleSet:
    try:
        doc = json.loads(raw)
        return _rule_set(doc, raw)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        if isinstance(exc, RuleSetError | KindError):
            raise RuleSetError(str(exc)) from None
        raise RuleSetError(f"not a valid rule set: {type(exc).__name__}: {exc}") from None


def _rule_set(doc: dict[str, Any], raw: bytes) -> RuleSet:
    features = {name: _ratio(name, item) for name, item in doc.get("features", {}).items()}
    rules = tuple(_rule(item) for item in doc["rules"])
    if len({rule.id for rule in rules}) != len(rules):
        raise RuleSetError("rule ids must be unique")
    kinds = parse_kinds(doc["kinds"]) if "kinds" in doc else _derived(rules, features)
    _rules_declared(rules, kinds, features)
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RuleSetError("'version' must be a positive integer")
    digest = hashlib.sha256(raw).hexdigest()
    return RuleSet(
        name=_text(doc, "name"),
        version=version,
        digest=digest[:12],
        rules=rules,
        fallback=_fallback(doc.get("fallback", {})),
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


def _ratio(name: str, item: dict[str, Any]) -> Ratio:
    parts = item.get("ratio")
    if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        raise RuleSetError(f"feature {name!r}: 'ratio' must name two metrics")
    return Ratio(parts[0], parts[1])


def _fallback(item: dict[str, Any]) -> Fallback:
    default = Fallback()
    return Fallback(
        severity=_choice(item, "severity", SEVERITIES) if "severity" in item else default.severity,
        category=_text(item, "category") if "category" in item else default.category,
        confidence=float(item.get("confidence", default.confidence)),
    )


def _rule(item: dict[str, Any]) -> Rule:
    rule = Rule(
        id=_text(item, "id"),
        kind=_text(item, "kind"),
        metric=item.get("metric"),
        comparison=item.get("comparison"),
        threshold=None if item.get("threshold") is None else float(item["threshold"]),
        severity=_choice(item, "severity", SEVERITIES),
        category=_text(item, "category"),
        confidence=float(item["confidence"]),
        explanation=_text(item, "explanation"),
        recommendation=_recommendation(item.get("recommendation")),
    )
    if rule.metric is not None:
        _choice(item, "comparison", tuple(COMPARISONS))
        if rule.threshold is None or not math.isfinite(rule.threshold):
            raise RuleSetError(f"rule {rule.id}: a metric rule needs a finite threshold")
    if not 0.0 <= rule.confidence <= 1.0:
        raise RuleSetError(f"rule {rule.id}: confidence must be between 0 and 1")
    return rule


def _recommendation(item: dict[str, Any] | None) -> Recommendation | None:
    if item is None:
        return None
    return Recommendation(
        action=_text(item, "action"),
        risk=_choice(item, "risk", RISKS),
        parameters=dict(item.get("parameters", {})),
        rationale=_text(item, "rationale"),
    )


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise RuleSetError(f"{key!r} must be a non-empty string in {item.get('id', item)}")
    return value


def _choice(item: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _text(item, key)
    if value not in allowed:
        raise RuleSetError(f"{key} {value!r} is not one of {', '.join(allowed)}")
    return value


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
