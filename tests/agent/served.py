"""An in-process AgentService with a fake ops service behind it, for the gRPC tests."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from runtime.auth import SERVICES, current_principal
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.agent.triage.clients.ops import OpsProposer
from services.agent.triage.grpc_api.servicer import spec
from services.agent.triage.service.agent import Agent as AgentDeps
from services.agent.triage.service.agent import utc_now
from services.agent.triage.service.rulebook import RuleBook
from tests.keys import identity_for, verifier_for
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
    ops_spec = ServiceSpec(
        register=lambda server: ops_grpc.add_OpsServiceServicer_to_server(ops, server),
        service_names=[OPS_NAME],
        rbac={f"/{OPS_NAME}/ProposeAction": SERVICES},
    )
    ops_running = await start(ops_spec, "127.0.0.1:0", verifier_for(ops_spec, auth))
    ops_channel = open_channel(ops_address or f"127.0.0.1:{ops_running.port}")
    proposer = OpsProposer(ops_grpc.OpsServiceStub(ops_channel), identity_for("agent", auth), 2)
    deps = AgentDeps(db, proposer, RuleBook.shipped(utc_now))
    running = await start(spec(deps), "127.0.0.1:0", verifier_for(spec(deps), auth))
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
