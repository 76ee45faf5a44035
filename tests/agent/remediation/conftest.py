"""A real in-process ops service and the RemediationService under test, each over its own
rolled-back database, sharing one hand-moved clock; triage decisions seeded as rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.agent.remediation.clients.ops import OpsLink
from services.agent.remediation.domain.playbooks import load_library
from services.agent.remediation.grpc_api import servicer as grpc_api
from services.ops.grpc_api import servicer as ops_api
from tests.agent.remediation.helpers import HandClock
from tests.keys import identity_for, verifier_for
from tradeops.agent.v1 import remediation_service_pb2_grpc as pb_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def ops(
    ops_db: Database, auth_settings: AuthSettings, clock: HandClock
) -> AsyncIterator[ops_grpc.OpsServiceAsyncStub]:
    served = ops_api.spec(ops_db, lambda: None, clock=clock)
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield ops_grpc.OpsServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)


@pytest.fixture
def link(ops: ops_grpc.OpsServiceAsyncStub, auth_settings: AuthSettings) -> OpsLink:
    return OpsLink(ops, identity_for("agent", auth_settings), 5.0)


@pytest.fixture
async def remediation(
    agent_db: Database, link: OpsLink, auth_settings: AuthSettings, clock: HandClock
) -> AsyncIterator[pb_grpc.RemediationServiceAsyncStub]:
    served = grpc_api.spec(agent_db, link, load_library(), clock=clock)
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb_grpc.RemediationServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)
