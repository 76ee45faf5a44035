"""Approval metrics over a window of proposals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from runtime.db import Database
from services.ops.domain.metrics import ApproverStats, Metrics
from services.ops.service import assignment, metrics
from services.ops.service import proposals as service
from services.ops.workers.metrics import MetricsGauges
from tests.ops.helpers import person, propose

# A window no other test proposes in.
T0 = datetime(2001, 5, 1, 8, 0, tzinfo=UTC)
OLGA, OTTO = person("olga", "ops"), person("otto", "ops")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_metrics_summarise_touches_decisions_approvers_and_backlog(
    ops_db: Database,
) -> None:
    approved = await propose(ops_db, now=T0)
    rejected = await propose(ops_db, now=T0)
    await propose(ops_db, now=T0)  # still pending
    await assignment.acknowledge(ops_db, action_id=approved.id, actor=OTTO, now=at(30))
    await service.approve(ops_db, action_id=approved.id, approver=OLGA, now=at(60))
    await service.reject(ops_db, action_id=rejected.id, approver=OLGA, now=at(120))
    found = await metrics.compute(ops_db, since=T0, until=at(1), now=at(2 * 3600))
    assert found.counts_by_state == {"APPROVED": 1, "REJECTED": 1, "PENDING_APPROVAL": 1}
    assert found.mtta_s == 75.0
    assert found.time_to_decision_s == 90.0
    assert found.approval_latency_s == 60.0
    assert found.rejection_rate_by_policy == {"default": 0.5}
    assert found.approvers == (ApproverStats("olga", 2, 0.5, 90.0),)
    assert found.backlog == ((0, 0), (300, 0), (3600, 1), (14400, 0), (86400, 0))


async def test_metrics_of_an_empty_window_are_zero(ops_db: Database) -> None:
    found = await metrics.compute(ops_db, since=at(-10), until=at(-5), now=T0)
    assert found.counts_by_state == {}
    assert found.mtta_s == 0.0
    assert found.approvers == ()


async def test_the_opentelemetry_gauges_report_the_computed_metrics(ops_db: Database) -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    gauges = MetricsGauges(ops_db, lambda: at(2 * 3600), meter=meter)
    gauges.snapshot = Metrics(
        counts_by_state={"PENDING_APPROVAL": 3, "APPROVED": 1},
        mtta_s=75.0,
        approval_latency_s=60.0,
        backlog=((0, 1), (3600, 2)),
    )

    seen = _observed(reader)

    assert seen["tradeops.ops.actions"] == {
        (("state", "PENDING_APPROVAL"),): 3,
        (("state", "APPROVED"),): 1,
    }
    assert seen["tradeops.ops.backlog"] == {(("age_from_s", 0),): 1, (("age_from_s", 3600),): 2}
    assert seen["tradeops.ops.mtta"] == {(): 75.0}
    assert seen["tradeops.ops.approval_latency"] == {(): 60.0}


async def test_the_gauges_refresh_from_the_database(ops_db: Database) -> None:
    await propose(ops_db, now=T0)
    gauges = MetricsGauges(ops_db, lambda: at(10), meter=MeterProvider().get_meter("test"))

    await gauges.refresh()

    assert gauges.snapshot.counts_by_state.get("PENDING_APPROVAL", 0) >= 1


def _observed(reader: InMemoryMetricReader) -> dict[str, dict[tuple[tuple[str, Any], ...], float]]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, dict[tuple[tuple[str, Any], ...], float]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points = found.setdefault(metric.name, {})
                for point in metric.data.data_points:
                    key = tuple(sorted((point.attributes or {}).items()))
                    points[key] = point.value  # type: ignore[union-attr]
    return found
