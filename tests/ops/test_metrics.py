"""Approval metrics over a window of proposals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runtime.db import Database
from services.ops import assignment, metrics, service
from services.ops.metrics import ApproverStats
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
