"""The shipped playbooks: which actions each category gets, with what parameters, risk and
dry-run prediction."""

from __future__ import annotations

import json

import pytest

from services.agent.remediation.domain.planner import plan_steps
from services.agent.remediation.domain.plans import PlannedStep
from services.agent.remediation.domain.playbooks import (
    PLAYBOOKS,
    Library,
    PlaybookError,
    load_library,
    parse_playbook,
)
from tests.agent.remediation.helpers import context


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def plan(library: Library, *args: object, **kwargs: object) -> tuple[PlannedStep, ...]:
    ctx = context(*args, **kwargs)  # type: ignore[arg-type]
    playbook = library.for_decision(ctx.category, ctx.kind)
    assert playbook is not None
    return plan_steps(playbook, ctx)


def test_a_slow_feed_fails_over_with_its_predicted_latency(library: Library) -> None:
    metrics = {"latency_ms": 850, "subscribed_strategies": 3}
    (step,) = plan(library, "market_data", "P2", "market_data_latency", "XNAS-ITCH", metrics)
    assert (step.kind, step.risk) == ("failover_market_data_feed", "MEDIUM")
    assert step.parameters["feed"] == "XNAS-ITCH"
    assert step.parameters["to"] == "secondary"
    assert step.dry_run.summary == (
        "feed XNAS-ITCH fails over to secondary; expected latency 850 ms -> ~40 ms; "
        "3 strategies re-subscribe"
    )
    assert [(e.metric, e.before, e.after) for e in step.dry_run.effects] == [
        ("latency_ms", 850, 40)
    ]
    assert step.dry_run.impacts == ("~250 ms without quotes while subscribers switch",)
    assert dict(step.dry_run.assumptions) == {"secondary_latency_ms": 40, "switchover_gap_ms": 250}
    assert step.source_ref.startswith("playbook/")
    assert step.source_ref.endswith("/failover-feed")


def test_a_secondary_latency_the_desk_reported_beats_the_assumed_one(library: Library) -> None:
    metrics = {"latency_ms": 2400, "secondary_latency_ms": 65}
    (step,) = plan(library, "market_data", "P1", "market_data_latency", "XLON-MD", metrics)
    assert "expected latency 2400 ms -> ~65 ms" in step.dry_run.summary
    assert "secondary_latency_ms" not in step.dry_run.assumptions


def test_a_stale_price_predicts_fresh_prices(library: Library) -> None:
    (step,) = plan(library, "market_data", "P2", "stale_price", "VOD.L", {"staleness_s": 45})
    assert step.dry_run.summary == (
        "feed VOD.L fails over to secondary; price staleness 45 s -> ~1 s; subscribers re-subscribe"
    )


def test_a_watch_level_market_data_incident_plans_nothing(library: Library) -> None:
    assert plan(library, "market_data", "P3", "stale_price", "VOD.L", {"staleness_s": 6}) == ()


def test_a_reject_spike_throttles_the_strategy(library: Library) -> None:
    metrics = {"reject_rate": 0.22, "order_rate_per_s": 140}
    (step,) = plan(library, "order_flow", "P1", "order_reject_spike", "momo-eu-3", metrics)
    assert (step.kind, step.risk) == ("throttle_strategy", "MEDIUM")
    assert step.parameters == {"strategy": "momo-eu-3", "desk": "eq-cash", "max_orders_per_s": 10}
    assert step.dry_run.summary == (
        "strategy momo-eu-3 throttled to 10 orders/s; order rate 140/s -> 10/s; "
        "reject rate 22% -> ~2%"
    )
    assert step.dry_run.impacts[0] == "~130 orders/s held back by the throttle"


def test_a_runaway_algo_at_p1_gets_its_kill_switch(library: Library) -> None:
    metrics = {"orders_per_s": 900, "open_orders": 412}
    (step,) = plan(library, "algo_control", "P1", "runaway_algo", "stat-arb-7", metrics)
    assert (step.kind, step.risk) == ("disable_strategy_kill_switch", "HIGH")
    assert step.parameters["cancel_open_orders"] is True
    assert step.dry_run.summary == (
        "strategy stat-arb-7 stops sending orders (kill switch engaged); "
        "order rate 900/s -> 0/s; 412 open orders cancelled"
    )


def test_a_runaway_algo_at_p2_is_paced_instead(library: Library) -> None:
    metrics = {"order_rate_per_s": 60}
    (step,) = plan(library, "algo_control", "P2", "runaway_algo", "stat-arb-7", metrics)
    assert (step.kind, step.parameters["max_orders_per_s"]) == ("throttle_strategy", 5)


def test_pre_trade_risk_failures_pace_the_strategy(library: Library) -> None:
    (paced,) = plan(library, "pretrade_risk", "P1", "pretrade_reject", "fx-mm-1", {})
    assert (paced.kind, paced.parameters["max_orders_per_s"]) == ("throttle_strategy", 5)
    assert plan(library, "pretrade_risk", "P3", "pretrade_reject", "fx-mm-1", {}) == ()


def test_a_fix_session_down_is_restarted(library: Library) -> None:
    (step,) = plan(library, "connectivity", "P1", "fix_session_down", "LSE-OE-02", {"seq_gap": 37})
    assert (step.kind, step.risk, step.parameters["session"]) == (
        "restart_fix_session",
        "MEDIUM",
        "LSE-OE-02",
    )
    assert step.dry_run.summary == (
        "FIX session LSE-OE-02 logs out and back on; ~15 s without order entry; "
        "37 missed messages recovered by resend request"
    )


def test_a_limit_breach_stops_the_strategy_and_names_the_utilisation(library: Library) -> None:
    metrics = {"utilization": 1.12}
    (step,) = plan(library, "risk_limits", "P1", "limit_breach", "credit-desk-2", metrics)
    assert (step.kind, step.risk) == ("disable_strategy_kill_switch", "HIGH")
    assert "(utilisation 1.12)" in step.rationale


def test_breaks_rerun_the_matching_reconciliation(library: Library) -> None:
    (pnl,) = plan(
        library, "reconciliation", "P2", "pnl_break", "rates-book-4", {"abs_diff": 250000}
    )
    (positions,) = plan(library, "reconciliation", "P3", "recon_break", "EQ-EU", {"breaks": 10})
    assert (pnl.kind, pnl.risk, pnl.parameters["scope"]) == ("rerun_reconciliation", "LOW", "pnl")
    assert "P&L difference of 250000" in pnl.dry_run.summary
    assert positions.parameters["scope"] == "positions"
    assert positions.dry_run.summary == (
        "positions reconciliation for EQ-EU re-runs; ~15 min; 10 breaks re-checked, "
        "~4 expected to remain"
    )


def test_a_playbook_is_found_by_incident_kind_when_the_category_is_unknown(
    library: Library,
) -> None:
    playbook = library.for_decision("some-new-category", "fix_session_down")
    assert playbook is not None
    assert playbook.name == "connectivity"
    assert library.for_decision("unclassified", "unknown_kind") is None


def test_planning_is_deterministic(library: Library) -> None:
    args = ("order_flow", "P1", "order_reject_spike", "momo-eu-3", {"reject_rate": 0.3})
    assert plan(library, *args) == plan(library, *args)


def test_every_shipped_playbook_names_its_version_with_a_content_hash(library: Library) -> None:
    names = {p.name for p in library.playbooks}
    assert names >= {"market-data", "order-flow", "connectivity", "risk-limits", "reconciliation"}
    for playbook in library.playbooks:
        version, digest = playbook.logic_version.split("+")
        assert version == playbook.version
        assert len(digest) == 12


def test_an_edited_playbook_has_a_new_logic_version() -> None:
    raw = (PLAYBOOKS / "connectivity.json").read_bytes()
    edited = raw.replace(b'"restart_downtime_s": 15', b'"restart_downtime_s": 20')
    assert edited != raw
    original, changed = parse_playbook(raw), parse_playbook(edited)
    assert original.version == changed.version
    assert original.logic_version != changed.logic_version


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"risk": "EXTREME"}, "risk must be one of"),
        ({"dry_run": {"model": "crystal_ball"}}, "dry-run model must be one of"),
        ({"id": ""}, "'id' must be a non-empty string"),
    ],
)
def test_a_malformed_step_is_refused(change: dict[str, object], message: str) -> None:
    doc = json.loads((PLAYBOOKS / "connectivity.json").read_bytes())
    doc["steps"][0].update(change)
    with pytest.raises(PlaybookError, match=message):
        parse_playbook(json.dumps(doc).encode())
