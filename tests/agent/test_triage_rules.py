"""The baseline rule set, applied by the pure triage function."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from runtime.canonical import canonical_json, sha256_hex
from services.agent.triage.domain.decisions import Rule, RuleSet, snapshot
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.domain.ruleset import (
    BASELINE,
    RuleSetError,
    load_rule_set,
    parse_rule_set,
)
from services.agent.triage.domain.triage import triage

RULES = load_rule_set()
OBSERVED = datetime(2026, 11, 3, 14, 30, 5, 123456, tzinfo=UTC)


def snap(kind: str, metrics: Mapping[str, float], subject: str = "XNAS-ITCH") -> dict[str, Any]:
    incident = NewIncident("md-gateway-ny4", kind, "eq-cash", subject, "", metrics, OBSERVED)
    return snapshot(incident)


def test_the_logic_version_is_the_rule_set_version_plus_a_hash_of_the_file() -> None:
    digest = hashlib.sha256(BASELINE.read_bytes()).hexdigest()[:12]
    assert RULES.name == "baseline"
    assert RULES.logic_version == f"1+{digest}"


def test_an_edited_rule_file_gets_a_different_logic_version() -> None:
    edited = BASELINE.read_bytes().replace(b'"threshold": 2000', b'"threshold": 1500')
    assert parse_rule_set(edited).logic_version != RULES.logic_version


def test_the_same_input_and_rules_give_the_same_outcome_and_hash() -> None:
    first = triage(snap("market_data_latency", {"latency_ms": 850}), RULES)
    again = triage(snap("market_data_latency", {"latency_ms": 850}), load_rule_set())
    assert first == again
    assert first.input_sha256 == sha256_hex(
        canonical_json(snap("market_data_latency", {"latency_ms": 850}))
    )


def test_changing_a_metric_changes_the_input_hash() -> None:
    before = triage(snap("market_data_latency", {"latency_ms": 850}), RULES)
    after = triage(snap("market_data_latency", {"latency_ms": 851}), RULES)
    assert before.input_sha256 != after.input_sha256
    assert before.severity == after.severity == "P2"


@pytest.mark.parametrize(
    ("kind", "metrics", "severity", "category", "action", "parameters"),
    [
        ("market_data_latency", {"latency_ms": 2500}, "P1", "market_data",
         "failover_market_data_feed", {"feed": "XNAS-ITCH", "to": "secondary"}),
        ("market_data_latency", {"latency_ms": 850}, "P2", "market_data",
         "failover_market_data_feed", {"feed": "XNAS-ITCH", "to": "secondary"}),
        ("stale_price", {"staleness_s": 45}, "P2", "market_data",
         "failover_market_data_feed", {"feed": "XNAS-ITCH", "to": "secondary"}),
        ("order_reject_spike", {"reject_rate": 0.35}, "P1", "order_flow",
         "throttle_strategy", {"strategy": "XNAS-ITCH", "max_orders_per_s": 10}),
        ("order_reject_spike", {"reject_rate": 0.08}, "P2", "order_flow",
         "throttle_strategy", {"strategy": "XNAS-ITCH", "max_orders_per_s": 10}),
        ("fix_session_down", {}, "P1", "connectivity",
         "restart_fix_session", {"session": "XNAS-ITCH"}),
        ("limit_breach", {"utilization": 1.2}, "P1", "risk_limits",
         "disable_strategy_kill_switch", {"strategy": "XNAS-ITCH"}),
        ("pnl_break", {"abs_diff": 250000}, "P2", "reconciliation",
         "rerun_reconciliation", {"scope": "pnl", "desk": "eq-cash", "subject": "XNAS-ITCH"}),
        ("recon_break", {"breaks": 3}, "P3", "reconciliation",
         "rerun_reconciliation", {"scope": "positions", "desk": "eq-cash", "subject": "XNAS-ITCH"}),
    ],
)  # fmt: skip
def test_each_incident_kind_gets_its_severity_and_remediation(
    kind: str,
    metrics: dict[str, float],
    severity: str,
    category: str,
    action: str,
    parameters: dict[str, Any],
) -> None:
    outcome = triage(snap(kind, metrics), RULES)
    assert (outcome.severity, outcome.category) == (severity, category)
    assert outcome.recommendation is not None
    assert outcome.recommendation.action == action
    assert outcome.recommendation.parameters == parameters
    assert "XNAS-ITCH" in outcome.recommendation.rationale


def test_a_limit_breach_needs_a_high_risk_approval() -> None:
    outcome = triage(snap("limit_breach", {"utilization": 1.0}, "momo-eu-1"), RULES)
    assert outcome.recommendation is not None
    assert outcome.recommendation.risk == "HIGH"


@pytest.mark.parametrize(
    ("kind", "metric", "value", "severity"),
    [
        ("market_data_latency", "latency_ms", 2000, "P1"),
        ("market_data_latency", "latency_ms", 1999.999, "P2"),
        ("market_data_latency", "latency_ms", 250, "P2"),
        ("market_data_latency", "latency_ms", 249.999, "P3"),
        ("market_data_latency", "latency_ms", 49.999, "P4"),
        ("stale_price", "staleness_s", 30, "P2"),
        ("stale_price", "staleness_s", 29.9, "P3"),
        ("order_reject_spike", "reject_rate", 0.2, "P1"),
        ("order_reject_spike", "reject_rate", 0.1999, "P2"),
        ("order_reject_spike", "reject_rate", 0.05, "P2"),
        ("order_reject_spike", "reject_rate", 0.0499, "P3"),
        ("order_reject_spike", "reject_rate", 0.0199, "P4"),
        ("limit_breach", "utilization", 1.0, "P1"),
        ("limit_breach", "utilization", 0.9999, "P3"),
        ("pnl_break", "abs_diff", 100000, "P2"),
        ("pnl_break", "abs_diff", 99999.99, "P3"),
        ("pnl_break", "abs_diff", 9999.99, "P4"),
        ("pretrade_reject", "reject_rate", 0.25, "P1"),
        ("pretrade_reject", "reject_rate", 0.2499, "P2"),
        ("pretrade_reject", "reject_count", 100, "P2"),
        ("pretrade_reject", "reject_count", 99, "P3"),
        ("pretrade_reject", "reject_count", 9, "P4"),
        ("recon_break", "breaks", 1, "P3"),
        ("recon_break", "breaks", 0, "P4"),
    ],
)
def test_thresholds_are_inclusive_at_the_boundary(
    kind: str, metric: str, value: float, severity: str
) -> None:
    assert triage(snap(kind, {metric: value}), RULES).severity == severity


def test_a_watch_level_rule_classifies_without_recommending_anything() -> None:
    outcome = triage(snap("limit_breach", {"utilization": 0.95}), RULES)
    assert (outcome.severity, outcome.category) == ("P3", "risk_limits")
    assert outcome.recommendation is None


@pytest.mark.parametrize(
    "incident",
    [
        snap("market_data_latency", {"latency_ms": 12}),
        snap("runaway_algo", {"orders_per_s": 150, "orders_per_s_limit": 0}),
        snap("market_data_latency", {"jitter_ms": 900}),
    ],
)
def test_an_incident_no_rule_matches_is_unclassified_p4(incident: dict[str, Any]) -> None:
    outcome = triage(incident, RULES)
    assert (outcome.severity, outcome.category) == ("P4", "unclassified")
    assert outcome.recommendation is None
    assert outcome.rules_fired == ()


def test_every_matching_rule_is_reported_with_threshold_and_observed_value() -> None:
    outcome = triage(snap("market_data_latency", {"latency_ms": 2500}), RULES)
    assert outcome.winning_rule == "md-latency-critical"
    hits = [(h.rule_id, h.metric, h.threshold, h.observed) for h in outcome.rules_fired]
    assert hits == [
        ("md-latency-critical", "latency_ms", 2000.0, 2500.0),
        ("md-latency-degraded", "latency_ms", 250.0, 2500.0),
        ("md-latency-watch", "latency_ms", 50.0, 2500.0),
    ]
    assert outcome.rules_fired[0].explanation.startswith("latency_ms 2500 >= 2000: ")


def test_among_equally_severe_rules_the_first_in_the_file_wins() -> None:
    first = Rule("a", "stale_price", "staleness_s", ">=", 1, "P2", "first", 0.5, "a")
    second = replace(first, id="b", category="second")
    rules = RuleSet("t", 1, "0" * 12, (first, second))
    assert triage(snap("stale_price", {"staleness_s": 5}), rules).category == "first"
    reordered = replace(rules, rules=(second, first))
    assert triage(snap("stale_price", {"staleness_s": 5}), reordered).category == "second"


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        (b'"severity": "P1"', b'"severity": "P0"'),
        (b'"id": "stale-price-watch"', b'"id": "stale-price"'),
    ],
)
def test_a_malformed_rule_file_is_refused(broken: bytes, fixed: bytes) -> None:
    with pytest.raises(RuleSetError):
        parse_rule_set(BASELINE.read_bytes().replace(broken, fixed, 1))
