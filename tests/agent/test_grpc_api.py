"""AgentService over gRPC, in process, with a fake ops service behind it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
import pytest

from runtime.auth import SERVICES, ServiceIdentity, TokenVerifier, current_principal
from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.agent.grpc_api import spec
from services.agent.ops_client import OpsProposer
from services.agent.ruleset import load_rule_set
from tradeops.agent.v1 import agent_service_pb2 as pb
from tradeops.agent.v1 import agent_service_pb2_grpc as pb_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Tokens = Callable[..., str]
OPS_NAME = ops_pb.DESCRIPTOR.services_by_name["OpsService"].full_name


@dataclass
class FakeOps(ops_grpc.OpsServiceServicer):
    """Records ProposeAction calls and who made them; answers with a new action."""

    calls: list[tuple[str, ops_pb.ProposeActionRequest]] = field(default_factory=list)

    async def ProposeAction(
        self, request: ops_pb.ProposeActionRequest, context: object
    ) -> ops_pb.Action:
        self.calls.append((current_principal().subject, request))
        return ops_pb.Action(id=f"act-{len(self.calls)}", kind=request.kind)


@dataclass
class Agent:
    stub: pb_grpc.AgentServiceAsyncStub
    ops: FakeOps


async def serve_agent(db: Database, auth: AuthSettings, ops_address: str) -> AsyncIterator[Agent]:
    ops = FakeOps()  # type: ignore[abstract]  # the stubs mark every RPC abstract
    ops_running = await start(
        ServiceSpec(
            register=lambda server: ops_grpc.add_OpsServiceServicer_to_server(ops, server),
            service_names=[OPS_NAME],
            rbac={f"/{OPS_NAME}/ProposeAction": SERVICES},
        ),
        "127.0.0.1:0",
        TokenVerifier(auth),
    )
    ops_channel = open_channel(ops_address or f"127.0.0.1:{ops_running.port}")
    proposer = OpsProposer(ops_grpc.OpsServiceStub(ops_channel), ServiceIdentity(auth, "agent"), 2)
    running = await start(spec(db, proposer, load_rule_set()), "127.0.0.1:0", TokenVerifier(auth))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield Agent(pb_grpc.AgentServiceStub(channel), ops)
    finally:
        await channel.close(None)
        await ops_channel.close(None)
        await running.stop(0)
        await ops_running.stop(0)


@pytest.fixture
async def agent(agent_db: Database, auth_settings: AuthSettings) -> AsyncIterator[Agent]:
    async for served in serve_agent(agent_db, auth_settings, ""):
        yield served


@pytest.fixture
async def agent_without_ops(
    agent_db: Database, auth_settings: AuthSettings
) -> AsyncIterator[Agent]:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    async for served in serve_agent(agent_db, auth_settings, closed):
        yield served


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
