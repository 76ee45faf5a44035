"""PlanRemediation over gRPC against a real in-process ops service: the plan, what ops stores,
idempotency, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import select

from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.settings import AuthSettings
from services.agent.remediation.clients.ops import OpsLink
from services.agent.remediation.domain.playbooks import load_library
from services.agent.remediation.service.planning import plan_remediation
from services.agent.tables import outbox
from tests.agent.remediation.helpers import seed_decision
from tests.keys import identity_for
from tradeops.agent.v1 import remediation_service_pb2 as pb
from tradeops.agent.v1 import remediation_service_pb2_grpc as pb_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Tokens = Callable[..., str]
Stub: TypeAlias = "pb_grpc.RemediationServiceAsyncStub"
LATENCY = {"latency_ms": 850, "subscribed_strategies": 3}


async def plan_for(stub: Stub, token: str, decision_id: str) -> pb.RemediationPlan:
    request = pb.PlanRemediationRequest(decision_id=decision_id)
    return await stub.PlanRemediation(request, metadata=bearer(token), timeout=10)


async def events(db: Database, action: str) -> list[dict[str, object]]:
    async with db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [row.event for row in rows if row.event["action"] == action]


async def test_a_plan_is_proposed_to_ops_with_its_dry_run_and_playbook_version(
    remediation: Stub, ops: ops_grpc.OpsServiceAsyncStub, agent_db: Database, token_for: Tokens
) -> None:
    decision_id = await seed_decision(
        agent_db, category="market_data", severity="P2", kind="market_data_latency",
        subject="XNAS-ITCH", metrics=LATENCY,
    )  # fmt: skip
    plan = await plan_for(remediation, token_for("rita", "trader"), decision_id)
    assert (plan.playbook_name, plan.planned_by, plan.severity) == ("market-data", "rita", "P2")
    (step,) = plan.steps
    assert step.action_id
    assert not step.proposal_error
    assert step.source_ref == f"playbook/{decision_id}/failover-feed"
    action = await ops.GetAction(
        ops_pb.GetActionRequest(id=step.action_id),
        metadata=bearer(token_for("olga", "ops")),
        timeout=5,
    )
    assert action.state == ops_pb.ACTION_STATE_PENDING_APPROVAL
    assert (action.kind, action.risk) == ("failover_market_data_feed", ops_pb.RISK_MEDIUM)
    assert (action.requested_by, action.decision_id) == ("rita", decision_id)
    assert action.proposed_by.subject == "agent-playbook/market-data"
    assert action.proposed_by.logic_version == plan.playbook_version
    parameters = json_format.MessageToDict(action.parameters)
    assert parameters["feed"] == "XNAS-ITCH"
    assert parameters["dry_run"]["summary"] == step.dry_run.summary
    assert "850 ms -> ~40 ms" in step.dry_run.summary
    assert parameters["playbook"]["version"] == plan.playbook_version
    assert parameters["playbook"]["step"] == "failover-feed"
    (planned,) = await events(agent_db, "agent.remediation.planned")
    assert planned["actor"]["subject"] == "rita"  # type: ignore[index]
    (proposed,) = await events(agent_db, "agent.remediation.step_proposed")
    assert proposed["outcome"] == "success"


async def test_planning_again_returns_the_same_plan_and_the_same_action(
    remediation: Stub, agent_db: Database, token_for: Tokens
) -> None:
    decision_id = await seed_decision(
        agent_db, category="connectivity", severity="P1", kind="fix_session_down",
        subject="LSE-OE-02",
    )  # fmt: skip
    first = await plan_for(remediation, token_for("rita", "trader"), decision_id)
    again = await plan_for(remediation, token_for("omar", "ops"), decision_id)
    assert again == first
    assert again.planned_by == "rita"
    stored = await remediation.GetPlan(
        pb.GetPlanRequest(decision_id=decision_id),
        metadata=bearer(token_for("vic", "viewer")),
        timeout=5,
    )
    assert stored == first
    assert len(await events(agent_db, "agent.remediation.planned")) == 1


async def test_a_plan_made_while_ops_is_down_is_submitted_when_planned_again(
    agent_db: Database,
    link: OpsLink,
    auth_settings: AuthSettings,
    principal_for: Callable[..., object],
) -> None:
    decision_id = await seed_decision(
        agent_db, category="reconciliation", severity="P3", kind="recon_break",
        subject="EQ-EU", metrics={"breaks": 4},
    )  # fmt: skip
    channel = open_channel("127.0.0.1:1")  # nothing listens there
    down = OpsLink(ops_grpc.OpsServiceStub(channel), identity_for("agent", auth_settings), 1)
    rita = principal_for("rita", "trader")
    library = load_library()
    try:
        plan = await plan_remediation(
            agent_db,
            down,
            library,
            decision_id=decision_id,
            caller=rita,  # type: ignore[arg-type]
        )
    finally:
        await channel.close(None)
    (step,) = plan.steps
    assert step.action_id is None
    assert "UNAVAILABLE" in step.proposal_error
    retried = await plan_remediation(
        agent_db,
        link,
        library,
        decision_id=decision_id,
        caller=rita,  # type: ignore[arg-type]
    )
    assert retried.steps[0].action_id
    assert retried.steps[0].proposal_error == ""
    outcomes = [e["outcome"] for e in await events(agent_db, "agent.remediation.step_proposed")]
    assert outcomes == ["failure", "success"]


async def test_a_decision_no_playbook_covers_is_refused_and_audited(
    remediation: Stub, agent_db: Database, token_for: Tokens
) -> None:
    decision_id = await seed_decision(
        agent_db, category="unclassified", severity="P4", kind="mystery", subject="X"
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plan_for(remediation, token_for("rita", "trader"), decision_id)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no playbook covers category 'unclassified'" in str(refused.value.details())
    (event,) = await events(agent_db, "agent.remediation.planned")
    assert event["outcome"] == "failure"


async def test_an_unknown_decision_is_not_found(remediation: Stub, token_for: Tokens) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await plan_for(remediation, token_for("rita", "trader"), "no-such-decision")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer not-a-token"),), grpc.StatusCode.UNAUTHENTICATED),
        ("viewer", grpc.StatusCode.PERMISSION_DENIED),
        ("service", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_only_people_who_may_triage_can_plan(
    remediation: Stub, token_for: Tokens, metadata: object, code: grpc.StatusCode
) -> None:
    if isinstance(metadata, str):
        subject = "svc:tests" if metadata == "service" else "someone"
        metadata = bearer(token_for(subject, metadata))
    request = pb.PlanRemediationRequest(decision_id="anything")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await remediation.PlanRemediation(request, metadata=metadata, timeout=5)  # type: ignore[arg-type]
    assert refused.value.code() == code


async def test_the_loaded_playbooks_are_listed_with_their_versions(
    remediation: Stub, token_for: Tokens
) -> None:
    listed = await remediation.ListPlaybooks(
        pb.ListPlaybooksRequest(), metadata=bearer(token_for("vic", "viewer")), timeout=5
    )
    by_name = {p.name: p for p in listed.playbooks}
    assert by_name["connectivity"].steps == ["restart-fix-session:restart_fix_session"]
    assert by_name["connectivity"].version.startswith("2026.11.1+")
