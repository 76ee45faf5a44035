"""What a desk system may report as an incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from runtime.errors import InvalidArgument
from services.agent.triage.domain.incidents import NewIncident, validate
from services.agent.triage.domain.ruleset import load_rule_set

NOW = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
KINDS = load_rule_set().kinds  # the shipped baseline's declared kinds
GOOD = NewIncident(
    source="md-gateway-ny4",
    kind="market_data_latency",
    desk="eq-cash",
    subject="XNAS-ITCH",
    summary="ITCH feed lagging",
    metrics={"latency_ms": 850.0},
    observed_at=NOW,
)


def test_a_complete_incident_is_accepted() -> None:
    validate(GOOD, NOW, KINDS)
    validate(replace(GOOD, desk="", summary="", metrics={}), NOW, KINDS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "coffee_machine_down"}, "kind 'coffee_machine_down' is not one of"),
        ({"kind": ""}, "is not one of: market_data_latency, stale_price"),
        ({"source": ""}, "source is required"),
        ({"subject": "   "}, "subject is required"),
        ({"source": "x" * 201}, "source is longer than 200 characters"),
        ({"subject": "x" * 201}, "subject is longer than 200 characters"),
        ({"desk": "x" * 201}, "desk is longer than 200 characters"),
        ({"summary": "x" * 2001}, "summary is longer than 2000 characters"),
        ({"metrics": {"latency_ms": float("nan")}}, "metric 'latency_ms' must be a finite number"),
        ({"metrics": {"latency_ms": float("inf")}}, "must be a finite number"),
        ({"metrics": {f"m{i}": 1.0 for i in range(51)}}, "at most 50 metrics"),
        ({"metrics": {"": 1.0}}, "metric names must be 1 to 64 characters"),
        ({"observed_at": NOW + timedelta(hours=1)}, "observed_at is in the future"),
    ],
)
def test_an_invalid_incident_is_refused_with_a_clear_message(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        validate(replace(GOOD, **change), NOW, KINDS)  # type: ignore[arg-type]


def test_limits_are_inclusive() -> None:
    validate(replace(GOOD, source="x" * 200, summary="y" * 2000), NOW, KINDS)
    validate(replace(GOOD, metrics={f"m{i}": 1.0 for i in range(50)}), NOW, KINDS)
