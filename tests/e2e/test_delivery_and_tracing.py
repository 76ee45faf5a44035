"""At-least-once delivery to the audit service, exactly-once storage, and one trace across
every hop, with real processes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import psycopg
import pytest

from runtime.clients import bearer, open_channel
from runtime.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.otlp import OtlpReceiver
from tests.e2e.test_seed_flow import LATENCY_INCIDENT, triaged_action
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Headers = Callable[..., dict[str, str]]
PENDING = """
    SELECT event_id::text FROM agent.outbox WHERE delivered_at IS NULL
    UNION ALL SELECT event_id::text FROM ops.outbox WHERE delivered_at IS NULL
"""


def _pending(sql: psycopg.Connection[Any]) -> set[str]:
    return {row[0] for row in sql.execute(PENDING).fetchall()}


def _stored_counts(sql: psycopg.Connection[Any], ids: set[str]) -> dict[str, int]:
    rows = sql.execute(
        "SELECT event_id::text, count(*) FROM audit.records WHERE event_id::text = ANY(%s)"
        " GROUP BY event_id",
        (sorted(ids),),
    ).fetchall()
    return {event_id: count for event_id, count in rows}


def test_events_made_while_audit_is_down_arrive_exactly_once_after_it_returns(
    api: httpx.Client, auth_header: Headers, stack: Stack, admin_sql: psycopg.Connection[Any]
) -> None:
    stack.stop_one("audit")
    try:
        _, decision = triaged_action(api, auth_header("olga", "ops"))
        approve = f"/agent/ops/actions/{decision['action_id']}/approve"
        assert api.post(approve, json={}, headers=auth_header("bob", "ops")).status_code == 200
        waiting = _pending(admin_sql)
        assert len(waiting) >= 5  # incident, decision, proposal, action proposed, votes...
    finally:
        stack.start_one("audit")
    eventually(lambda: not (_pending(admin_sql) & waiting), what="the outboxes to drain")
    assert _stored_counts(admin_sql, waiting) == dict.fromkeys(waiting, 1)

    # A relay that crashed after the audit commit but before its own resends the batch.
    admin_sql.execute(
        "UPDATE ops.outbox SET delivered_at = NULL WHERE event_id::text = ANY(%s)",
        (sorted(waiting),),
    )
    eventually(lambda: not (_pending(admin_sql) & waiting), what="the redelivery")
    assert _stored_counts(admin_sql, waiting) == dict.fromkeys(waiting, 1)


def test_one_trace_covers_gateway_agent_ops_and_audit(
    api: httpx.Client, auth_header: Headers, otlp: OtlpReceiver, admin_sql: psycopg.Connection[Any]
) -> None:
    trace_id = secrets.token_hex(16)
    headers = {
        **auth_header("olga", "ops"),
        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
    }
    # A subject of its own: a repeat of an open incident would be folded onto it.
    fresh = {**LATENCY_INCIDENT, "subject": f"XNAS-ITCH-{secrets.token_hex(4)}"}
    incident = api.post("/incidents", json=fresh, headers=headers)
    assert incident.status_code == 201
    triage = api.post("/agent/triage", json={"incident_id": incident.json()["id"]}, headers=headers)
    assert triage.status_code == 201
    wanted = {"tradeops-gateway", "tradeops-agent", "tradeops-ops", "tradeops-audit"}
    eventually(lambda: wanted <= otlp.services_in(trace_id), what=f"spans of {wanted}")
    stored = eventually(
        lambda: admin_sql.execute(
            # The creation's own record: a later, correlated incident may update this one.
            "SELECT trace_id FROM audit.records WHERE target = %s"
            " AND action = 'agent.incident.created'",
            (f"incident/{incident.json()['id']}",),
        ).fetchall(),
        what="the incident's audit record",
    )
    assert {row[0] for row in stored} == {trace_id}


@pytest.mark.parametrize(
    ("token_roles", "code"),
    [(None, grpc.StatusCode.UNAUTHENTICATED), (("viewer",), grpc.StatusCode.PERMISSION_DENIED)],
)
async def test_grpc_callers_need_a_token_and_a_role(
    stack: Stack,
    token_for: Callable[..., str],
    token_roles: tuple[str, ...] | None,
    code: grpc.StatusCode,
) -> None:
    metadata = bearer(token_for("vera", *token_roles)) if token_roles else ()
    async with open_channel(stack.address("agent")) as channel:
        stub = agent_grpc.AgentServiceStub(channel)
        request = agent_pb.CreateIncidentRequest(
            source="fix-gw", kind="fix_session_down", subject="LSE-1"
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateIncident(request, metadata=metadata, timeout=5)
    assert caught.value.code() == code


async def _refused(stack: Stack, service: str) -> None:
    async with open_channel(stack.address(service)) as channel:
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "ops": lambda: ops_grpc.OpsServiceStub(channel).GetAction(
                ops_pb.GetActionRequest(id="x"), timeout=5
            ),
            "agent": lambda: agent_grpc.AgentServiceStub(channel).GetIncident(
                agent_pb.GetIncidentRequest(id="x"), timeout=5
            ),
            "export": lambda: export_grpc.ExportServiceStub(channel).GetExport(
                export_pb.GetExportRequest(id="x"), timeout=5
            ),
        }
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await calls[service]()
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("service", ["ops", "agent", "export"])
async def test_a_call_refused_by_a_service_is_in_the_audit_log(
    stack: Stack, admin_sql: psycopg.Connection[Any], service: str
) -> None:
    await _refused(stack, service)
    found = eventually(
        lambda: admin_sql.execute(
            "SELECT actor->>'subject', outcome FROM audit.records WHERE action = %s",
            (f"{service}.access.denied",),
        ).fetchall(),
        what="the refusal in the audit log",
    )
    assert ("anonymous", "denied") in found
