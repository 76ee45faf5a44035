"""AgentService over gRPC, in process, with a fake ops service behind it."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from runtime.clients import bearer
from tests.agent.served import Agent, agent, agent_without_ops
from tradeops.agent.v1 import agent_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2 as ops_pb

__all__ = ["agent", "agent_without_ops"]
Tokens = Callable[..., str]


def latency_incident(kind: str = "market_data_latency") -> pb.CreateIncidentRequest:
    return pb.CreateIncidentRequest(
        source="md-gateway-ny4",
        kind=kind,
        desk="eq-cash",
        subject="XNAS-ITCH",
        summary="ITCH feed lagging",
        metrics={"latency_ms": 2500},
    )


async def test_a_trader_triages_an_incident_and_ops_receives_the_proposal(
    agent: Agent, token_for: Tokens
) -> None:
    alice = bearer(token_for("alice", "trader"))
    incident = await agent.stub.CreateIncident(latency_incident(), metadata=alice, timeout=5)
    assert incident.created_by == "alice"
    decision = await agent.stub.TriageIncident(
        pb.TriageIncidentRequest(incident_id=incident.id), metadata=alice, timeout=5
    )
    assert (decision.severity, decision.recommended_action) == ("P1", "failover_market_data_feed")
    assert (decision.action_id, decision.requested_by, decision.logic_name) == (
        "act-1",
        "alice",
        "baseline",
    )
    assert decision.rules_fired[0].rule_id == "md-latency-critical"
    [(caller, proposal)] = agent.ops.calls
    assert caller == "svc:agent"
    assert (proposal.requested_by, proposal.source_ref) == ("alice", f"decision/{decision.id}")
    assert (proposal.incident_id, proposal.decision_id) == (incident.id, decision.id)
    assert proposal.proposed_by.kind == "agent"
    assert proposal.proposed_by.logic_version == decision.logic_version
    assert proposal.risk == ops_pb.RISK_MEDIUM
    assert dict(proposal.parameters) == {"feed": "XNAS-ITCH", "to": "secondary"}


async def test_a_viewer_can_read_incidents_and_decisions(agent: Agent, token_for: Tokens) -> None:
    alice, viewer = bearer(token_for("alice", "ops")), bearer(token_for("vera", "viewer"))
    incident = await agent.stub.CreateIncident(latency_incident(), metadata=alice, timeout=5)
    decision = await agent.stub.TriageIncident(
        pb.TriageIncidentRequest(incident_id=incident.id), metadata=alice, timeout=5
    )
    seen = await agent.stub.GetIncident(
        pb.GetIncidentRequest(id=incident.id), metadata=viewer, timeout=5
    )
    assert seen == incident
    listed = await agent.stub.ListIncidents(pb.ListIncidentsRequest(), metadata=viewer, timeout=5)
    assert [i.id for i in listed.incidents] == [incident.id]
    again = await agent.stub.GetDecision(
        pb.GetDecisionRequest(id=decision.id), metadata=viewer, timeout=5
    )
    assert again == decision


async def test_when_ops_is_unreachable_the_decision_is_returned_without_an_action(
    agent_without_ops: Agent, token_for: Tokens
) -> None:
    alice = bearer(token_for("alice", "trader"))
    stub = agent_without_ops.stub
    incident = await stub.CreateIncident(latency_incident(), metadata=alice, timeout=5)
    decision = await stub.TriageIncident(
        pb.TriageIncidentRequest(incident_id=incident.id), metadata=alice, timeout=10
    )
    assert (decision.severity, decision.action_id) == ("P1", "")
    stored = await stub.GetDecision(
        pb.GetDecisionRequest(id=decision.id), metadata=alice, timeout=5
    )
    assert stored.action_id == ""


@pytest.mark.parametrize("metadata", [(), bearer("not-a-jwt")])
async def test_a_call_without_a_valid_token_is_unauthenticated(
    agent: Agent, metadata: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.CreateIncident(latency_incident(), metadata=metadata, timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_viewer_cannot_report_an_incident(agent: Agent, token_for: Tokens) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.CreateIncident(
            latency_incident(), metadata=bearer(token_for("vera", "viewer")), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_desk_system_reports_incidents_but_cannot_request_triage(
    agent: Agent, token_for: Tokens
) -> None:
    desk_system = bearer(token_for("svc:md-gateway", "service"))
    incident = await agent.stub.CreateIncident(latency_incident(), metadata=desk_system, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.TriageIncident(
            pb.TriageIncidentRequest(incident_id=incident.id), metadata=desk_system, timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert agent.ops.calls == []


async def test_an_unknown_incident_is_not_found(agent: Agent, token_for: Tokens) -> None:
    alice = bearer(token_for("alice", "trader"))
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.TriageIncident(
            pb.TriageIncidentRequest(incident_id=missing), metadata=alice, timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.GetIncident(pb.GetIncidentRequest(id=missing), metadata=alice, timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_unknown_incident_kind_is_an_invalid_argument(
    agent: Agent, token_for: Tokens
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await agent.stub.CreateIncident(
            latency_incident("coffee_machine_down"),
            metadata=bearer(token_for("alice", "trader")),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "kind 'coffee_machine_down' is not one of" in (caught.value.details() or "")
