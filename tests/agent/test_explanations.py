"""What a decision explains: each feature's contribution, where the severity would change, and
an output hash that timing does not touch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.agent.triage.domain.decisions import SeverityChange, snapshot
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.domain.ruleset import BASELINE, load_rule_set, parse_rule_set
from services.agent.triage.domain.triage import triage
from tests.agent.fakes import NOW

RULES = load_rule_set()


def snap(kind: str, metrics: Mapping[str, float]) -> dict[str, Any]:
    return snapshot(NewIncident("oms", kind, "eq-cash", "momo-eu-7", "", metrics, NOW))


def test_a_metric_that_decides_contributes_and_an_unrelated_one_does_not() -> None:
    outcome = triage(snap("market_data_latency", {"latency_ms": 850, "cpu_pct": 40}), RULES)
    by_feature = {c.feature: c for c in outcome.contributions}
    assert outcome.score == 0.6  # P2 weight 0.75 times confidence 0.8
    # Without latency_ms no rule fires: the P4 fallback's 0.25 * 0.5 remains.
    assert by_feature["latency_ms"].contribution == round(0.6 - 0.125, 6)
    assert by_feature["latency_ms"].rule_id == "md-latency-degraded"
    assert (by_feature["cpu_pct"].contribution, by_feature["cpu_pct"].rule_id) == (0.0, "")


def test_the_metrics_behind_a_derived_ratio_share_its_contribution() -> None:
    outcome = triage(snap("runaway_algo", {"orders_per_s": 900, "orders_per_s_limit": 200}), RULES)
    by_feature = {c.feature: c for c in outcome.contributions}
    assert by_feature["order_rate_vs_limit"].value == 4.5
    assert by_feature["orders_per_s"].contribution == by_feature["orders_per_s_limit"].contribution
    assert by_feature["orders_per_s"].contribution == round(0.95 - 0.125, 6)


def test_the_severity_change_points_are_given_in_both_directions() -> None:
    outcome = triage(snap("market_data_latency", {"latency_ms": 850}), RULES)
    assert outcome.severity_changes == (
        SeverityChange("latency_ms", "up", ">=", 2000.0, "P1", "md-latency-critical"),
        SeverityChange("latency_ms", "down", "<", 250.0, "P3", "md-latency-degraded"),
    )


def test_the_change_points_are_exact_when_re_evaluated() -> None:
    for value in (30.0, 400.0, 2500.0):
        outcome = triage(snap("market_data_latency", {"latency_ms": value}), RULES)
        for change in outcome.severity_changes:
            probe = change.value if "=" in change.comparison else change.value * 0.999999
            moved = triage(snap("market_data_latency", {"latency_ms": probe}), RULES)
            assert moved.severity == change.severity


def test_at_the_top_severity_only_the_way_down_is_given() -> None:
    outcome = triage(snap("limit_breach", {"utilization": 1.04}), RULES)
    assert [(c.direction, c.value, c.severity) for c in outcome.severity_changes] == [
        ("down", 1.0, "P3")
    ]


def test_timing_is_recorded_but_not_part_of_the_output_hash() -> None:
    ticks = iter([0.0, 0.002, 10.0, 10.5])
    first = triage(snap("pnl_break", {"abs_diff": 250000}), RULES, timer=lambda: next(ticks))
    again = triage(snap("pnl_break", {"abs_diff": 250000}), RULES, timer=lambda: next(ticks))
    assert (first.evaluation_us, again.evaluation_us) == (2000, 500000)
    assert first.output_sha256 == again.output_sha256
    assert first == again


def test_a_different_rule_set_version_gives_a_different_output_hash_for_the_same_input() -> None:
    edited = BASELINE.read_bytes().replace(b'"confidence": 0.8,', b'"confidence": 0.81,', 1)
    changed = parse_rule_set(edited)
    incident = snap("market_data_latency", {"latency_ms": 850})
    assert changed.logic_version != RULES.logic_version
    assert triage(incident, changed).output_sha256 != triage(incident, RULES).output_sha256
