"""Incident kinds are declared by the rule set document: parsed strictly, cross-checked against
its rules, and derived from the rules for documents stored before kinds were data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.agent.triage.domain.kinds import Kind
from services.agent.triage.domain.ruleset import BASELINE, RuleSetError, parse_rule_set

SHIPPED = parse_rule_set(BASELINE.read_bytes())
# The ten kinds the code listed before kinds became data, in its order (refusals list them so).
TEN = (
    "market_data_latency",
    "stale_price",
    "order_reject_spike",
    "fix_session_down",
    "limit_breach",
    "pnl_break",
    "recon_break",
    "pretrade_reject",
    "runaway_algo",
    "compliance_violation",
)


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(BASELINE.read_bytes())
    doc.update(changes)
    return doc


def parsed(doc: dict[str, Any]) -> dict[str, Kind]:
    return dict(parse_rule_set(json.dumps(doc).encode()).kinds)


def test_the_shipped_baseline_declares_the_ten_kinds_each_with_a_description() -> None:
    assert tuple(SHIPPED.kinds) == TEN
    assert all(kind.description.strip() for kind in SHIPPED.kinds.values())
    assert SHIPPED.kinds["runaway_algo"].metrics == ("orders_per_s", "orders_per_s_limit")


def test_a_document_without_kinds_declares_the_kinds_and_metrics_its_rules_name() -> None:
    old = document()
    del old["kinds"]
    derived = parsed(old)
    assert tuple(derived) == TEN  # the shipped baseline's rules name exactly its kinds
    for name, kind in derived.items():
        assert set(kind.metrics) <= set(SHIPPED.kinds[name].metrics)
    # A rule reading a feature declares the feature's two metrics for its kind.
    assert derived["runaway_algo"].metrics == ("orders_per_s", "orders_per_s_limit")
    assert derived["fix_session_down"].metrics == ()


def test_a_stored_document_with_free_spelled_metrics_still_parses_without_kinds() -> None:
    """Versions stored before kinds were data never had their metric names checked."""
    old = document(rules=[{**document()["rules"][0], "metric": "p99.latency"}])
    del old["kinds"]
    assert parsed(old)["market_data_latency"].metrics == ("p99.latency",)


def test_a_new_kind_is_declared_with_its_metrics() -> None:
    kinds = {
        **document()["kinds"],
        "margin_call": {"description": "A clearer calls margin.", "metrics": ["call_amount"]},
    }
    assert parsed(document(kinds=kinds))["margin_call"] == Kind(
        "A clearer calls margin.", ("call_amount",)
    )


def with_kind(name: str, body: Any) -> dict[str, Any]:
    return document(kinds={**document()["kinds"], name: body})


def first_rule(**changes: Any) -> dict[str, Any]:
    rules = document()["rules"]
    return document(rules=[{**rules[0], **changes}, *rules[1:]])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (first_rule(kind="margin_call"), "rule md-latency-critical: kind 'margin_call' is not"),
        (first_rule(metric="latency_sm"), "metric 'latency_sm' is neither a metric of kind"),
        (document(kinds={}), "'kinds' must be a non-empty object"),
        (with_kind("Margin-Call", {"description": "x", "metrics": []}), "kind 'Margin-Call'"),
        (with_kind("m" * 65, {"description": "x", "metrics": []}), "must be 1 to 64 of a-z"),
        (with_kind("margin_call", {"description": " ", "metrics": []}), "'description' must be"),
        (with_kind("margin_call", {"description": "a\nb", "metrics": []}), "one line"),
        (with_kind("margin_call", {"description": "x", "metrics": ["Call"]}), "metric 'Call'"),
        (with_kind("margin_call", {"description": "x", "metrics": ["a", "a"]}), "named twice"),
        (with_kind("margin_call", {"description": "x", "colour": 1}), "must be an object with"),
    ],
)
def test_a_bad_kinds_declaration_is_refused_with_the_first_problem(
    doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleSetError, match=message):
        parsed(doc)
