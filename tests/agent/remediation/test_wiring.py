"""What __main__ gets from wiring: RemediationService and other services on one server."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.grpc_server import merge, start
from runtime.settings import AuthSettings, ServiceSettings
from services.agent.__main__ import remediation_spec
from services.agent.remediation.settings import Settings as RemediationSettings
from services.ops.grpc_api import servicer as ops_api
from tests.agent.remediation.helpers import Tokens
from tests.keys import identity_for, verifier_for
from tradeops.agent.v1 import remediation_service_pb2 as pb
from tradeops.agent.v1 import remediation_service_pb2_grpc as pb_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

DEMO = {"default": "demo", "executors": [{"name": "demo", "type": "simulator"}]}


def settings(auth: AuthSettings) -> ServiceSettings:
    return ServiceSettings(
        name="agent",
        database_url="postgresql://unused",
        listen="127.0.0.1:0",
        peers={},
        auth=auth,
        rpc_timeout_s=5,
        export_dir=Path("unused"),
        outbox_poll_s=1,
    )


async def test_one_server_serves_remediation_beside_another_service(
    agent_db: Database, ops_db: Database, auth_settings: AuthSettings, token_for: Tokens
) -> None:
    channel = open_channel("127.0.0.1:1")  # the ops peer is not called in this test
    env = {"TRADEOPS_AGENT_EXECUTORS": json.dumps(DEMO)}
    remediation = remediation_spec(
        settings(auth_settings),
        agent_db,
        ops_grpc.OpsServiceStub(channel),
        identity_for("agent", auth_settings),
        RemediationSettings.from_env(env),
        wake=lambda: None,
    )
    assert len(remediation.workers) == 1
    both = merge(remediation, ops_api.spec(ops_db, lambda: None))
    assert set(both.rbac) == set(remediation.rbac) | set(ops_api.RBAC)
    both.workers = []  # the worker is not under test here
    running = await start(both, "127.0.0.1:0", verifier_for(both, auth_settings))
    served = open_channel(f"127.0.0.1:{running.port}")
    viewer = bearer(token_for("vic", "viewer"))
    try:
        playbooks = await pb_grpc.RemediationServiceStub(served).ListPlaybooks(
            pb.ListPlaybooksRequest(), metadata=viewer, timeout=5
        )
        assert len(playbooks.playbooks) >= 5
        await ops_grpc.OpsServiceStub(served).ListActions(
            ops_pb.ListActionsRequest(), metadata=viewer, timeout=5
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.RemediationServiceStub(served).PlanRemediation(
                pb.PlanRemediationRequest(decision_id="x"), metadata=viewer, timeout=5
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await served.close(None)
        await channel.close(None)
        await running.stop(0)
