"""The new AgentService RPCs over gRPC: roles, decision records, feedback, metrics, rule sets."""

from __future__ import annotations

import json
from collections.abc import Callable

import grpc
import pytest

from runtime.clients import bearer
from services.agent.triage.domain.ruleset import BASELINE
from tests.agent.served import Agent, agent
from tradeops.agent.v1 import agent_service_pb2 as pb

__all__ = ["agent"]
Tokens = Callable[..., str]
ALGO = pb.CreateIncidentRequest(
    source="algo-monitor", kind="runaway_algo", desk="eq-cash", subject="momo-eu-7",
    metrics={"orders_per_s": 900, "orders_per_s_limit": 200}, venue="xpar",
)  # fmt: skip


async def decided(agent: Agent, token_for: Tokens) -> pb.TriageDecision:
    reply = await agent.stub.TriageBatch(
        pb.TriageBatchRequest(incidents=[ALGO]),
        metadata=bearer(token_for("a", "trader")),
        timeout=5,
    )
    return reply.items[0].decision


async def test_a_decision_record_carries_its_input_explanation_and_hashes(
    agent: Agent, token_for: Tokens
) -> None:
    decision = await decided(agent, token_for)
    assert (decision.category, decision.severity, decision.winning_rule) == (
        "algo_control", "P1", "runaway-algo-critical",
    )  # fmt: skip
    assert decision.recommended_risk == "HIGH"
    assert decision.score == 0.95
    assert json.loads(decision.input_snapshot_json)["venue"] == "XPAR"
    assert len(decision.input_sha256) == len(decision.output_sha256) == 64
    assert {c.feature for c in decision.feature_contributions} == {
        "order_rate_vs_limit", "orders_per_s", "orders_per_s_limit",
    }  # fmt: skip
    [change] = decision.severity_changes
    assert (change.direction, change.comparison, change.value, change.severity) == (
        "down", "<", 2.0, "P2",
    )  # fmt: skip


async def test_a_viewer_cannot_give_feedback_but_a_trader_can_and_metrics_show_it(
    agent: Agent, token_for: Tokens
) -> None:
    decision = await decided(agent, token_for)
    request = pb.RecordFeedbackRequest(
        decision_id=decision.id, verdict="override", corrected_severity="P2", reason="paper trading"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.RecordFeedback(
            request, metadata=bearer(token_for("v", "viewer")), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    item = await agent.stub.RecordFeedback(
        request, metadata=bearer(token_for("t", "trader")), timeout=5
    )
    assert (item.created_by, item.verdict) == ("t", "override")
    metrics = await agent.stub.GetTriageMetrics(
        pb.GetTriageMetricsRequest(), metadata=bearer(token_for("v", "viewer")), timeout=5
    )
    assert dict(metrics.by_severity) == {"P1": 1}
    assert [(m.overrides, m.override_rate) for m in metrics.by_logic_version] == [(1, 1.0)]


async def test_an_override_without_a_reason_is_a_failed_argument(
    agent: Agent, token_for: Tokens
) -> None:
    decision = await decided(agent, token_for)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.RecordFeedback(
            pb.RecordFeedbackRequest(
                decision_id=decision.id, verdict="override", corrected_severity="P3"
            ),
            metadata=bearer(token_for("t", "trader")),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_only_an_admin_puts_a_rule_set_and_a_stale_version_is_a_failed_precondition(
    agent: Agent, token_for: Tokens
) -> None:
    doc = json.loads(BASELINE.read_bytes()) | {"version": 2}
    request = pb.PutRuleSetRequest(document=json.dumps(doc), reason="tuning")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.PutRuleSet(
            request, metadata=bearer(token_for("o", "ops", "compliance")), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = bearer(token_for("root", "admin"))
    stored = await agent.stub.PutRuleSet(request, metadata=admin, timeout=5)
    assert (stored.version, stored.active, stored.created_by) == (2, True, "root")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.PutRuleSet(request, metadata=admin, timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = await agent.stub.ListRuleSets(
        pb.ListRuleSetsRequest(), metadata=bearer(token_for("v", "viewer")), timeout=5
    )
    assert [(r.version, r.active, r.document) for r in listed.rule_sets] == [
        (2, True, ""),
        (1, False, ""),
    ]
    first = await agent.stub.GetRuleSet(pb.GetRuleSetRequest(version=1), metadata=admin, timeout=5)
    assert first.document.encode() == BASELINE.read_bytes()


async def test_a_duplicate_report_says_so_and_points_at_the_open_incident(
    agent: Agent, token_for: Tokens
) -> None:
    desk = bearer(token_for("svc:md", "service"))
    first = await agent.stub.CreateIncident(ALGO, metadata=desk, timeout=5)
    again = await agent.stub.CreateIncident(ALGO, metadata=desk, timeout=5)
    assert (first.deduplicated, again.deduplicated) == (False, True)
    assert (again.id, again.occurrences, again.fingerprint) == (first.id, 2, first.fingerprint)
