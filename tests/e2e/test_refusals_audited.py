"""Every refusal is an audit event, wherever it happens: the gateway's 401 and 403 (it has no
outbox, so it sends them to the audit service itself) and a service guard's refusal of a gRPC
call."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import psycopg
import pytest

from runtime.clients import bearer, open_channel
from runtime.stack import Stack
from tests.e2e.conftest import eventually
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Headers = Callable[..., dict[str, str]]
DENIED = """
    SELECT actor->>'subject', target, outcome FROM audit.records
    WHERE action = %s AND actor->>'subject' = %s
"""


def _denied(sql: psycopg.Connection[Any], action: str, subject: str) -> list[tuple[Any, ...]]:
    return sql.execute(DENIED, (action, subject)).fetchall()


def test_the_gateways_403_and_401_reach_the_audit_log(
    api: httpx.Client, auth_header: Headers, admin_sql: psycopg.Connection[Any]
) -> None:
    viewer = f"vic-{secrets.token_hex(4)}"
    refused = api.post(
        "/exports", json={"kind": "audit_extract"}, headers=auth_header(viewer, "viewer")
    )
    assert refused.status_code == 403
    assert api.get("/incidents").status_code == 401
    rows = eventually(lambda: _denied(admin_sql, "gateway.access.denied", viewer), what="403")
    assert rows == [(viewer, "route POST /exports", "denied")]
    anonymous = eventually(
        lambda: _denied(admin_sql, "gateway.access.denied", "anonymous"), what="the 401"
    )
    assert ("anonymous", "route GET /incidents", "denied") in anonymous


def test_a_service_guards_refusal_reaches_the_audit_log(
    stack: Stack, token_for: Callable[..., str], admin_sql: psycopg.Connection[Any]
) -> None:
    trader = f"tom-{secrets.token_hex(4)}"

    async def vote() -> None:
        async with open_channel(stack.address("ops")) as channel:
            stub = ops_grpc.OpsServiceStub(channel)
            request = ops_pb.PutEscalationPolicyRequest()
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.PutEscalationPolicy(
                    request, timeout=5, metadata=bearer(token_for(trader, "trader"))
                )
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    asyncio.run(vote())
    rows = eventually(lambda: _denied(admin_sql, "ops.access.denied", trader), what="the refusal")
    assert rows[0][1] == "rpc/tradeops.ops.v1.OpsService/PutEscalationPolicy"
