"""What an operator sees of a running system: a Prometheus endpoint per process with request
rates and latencies, JSON log lines carrying trace ids, and no secret in any log line."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable

import grpc
import httpx
import pytest

from runtime.clients import open_channel
from runtime.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_seed_flow import triaged_action
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Headers = Callable[..., dict[str, str]]
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")


def _scrape(stack: Stack, process: str) -> str:
    reply = httpx.get(stack.metrics_url(process), timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return reply.text


def _log_lines(stack: Stack, process: str) -> list[str]:
    return (stack.log_dir / f"{process}.log").read_text(errors="replace").splitlines()


def test_each_process_serves_request_rates_and_latencies_to_prometheus(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    triaged_action(api, auth_header("olga", "ops"))
    gateway = _scrape(stack, "gateway")
    assert re.search(r'http_server_\w*duration\w*_count\{[^}]*="/incidents"', gateway)
    agent = _scrape(stack, "agent")
    created = r"rpc_server_duration_milliseconds_count\{[^}]*CreateIncident[^}]*\} (\d+)"
    match = re.search(created, agent)
    assert match, agent[:2000]
    assert int(match.group(1)) >= 1
    # the outbox relay delivered those events: the audit service counted AppendEvents calls
    eventually(lambda: "AuditService/AppendEvents" in _scrape(stack, "audit"), what="appends")


def test_refused_calls_are_counted_with_their_status(stack: Stack) -> None:
    async def refused() -> None:
        async with open_channel(stack.address("ops")) as channel:
            stub = ops_grpc.OpsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetAction(ops_pb.GetActionRequest(id="x"), timeout=5)

    asyncio.run(refused())
    counted = [
        line
        for line in _scrape(stack, "ops").splitlines()
        if line.startswith("rpc_server_duration_milliseconds_count")
        and "OpsService/GetAction" in line
        and 'rpc_grpc_status_code="UNAUTHENTICATED"' in line
    ]
    assert counted
    assert float(counted[0].rsplit(" ", 1)[1]) >= 1


def test_log_lines_are_json_and_gateway_lines_carry_the_callers_trace_id(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    headers = {**auth_header("olga", "ops"), "traceparent": traceparent}
    assert api.get("/incidents", headers=headers).status_code == 200

    def logged() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in _log_lines(stack, "gateway")]
        return [line for line in lines if line.get("trace_id") == trace_id]

    lines = eventually(logged, what="the gateway's access line for the request")
    assert lines[0]["logger"] == "gateway.access"
    assert str(lines[0]["message"]).startswith("GET /incidents 200")
    fields = {"time", "level", "service", "logger", "message"}
    odd = [  # every line, from every process, is one JSON object with the fields
        (process, line)
        for process in ("audit", "ops", "agent", "export", "gateway")
        for line in _log_lines(stack, process)
        if not fields <= _json_object(line).keys()
    ]
    assert odd == []


def _json_object(line: str) -> dict[str, object]:
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def _gauge(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{name}\w*(?:\{{[^}}]*{labels}[^}}]*\}})? (\S+)$", text, re.M)
    assert match, f"{name} not in the scrape"
    return float(match.group(1))


def test_outbox_lag_log_size_and_checkpoint_age_are_served(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    triaged_action(api, auth_header("olga", "ops"))

    def refreshed() -> float:  # the gauges are read every few seconds
        return _gauge(_scrape(stack, "audit"), "tradeops_audit_log_size")

    size = eventually(refreshed, what="a log size", timeout=30)
    assert size >= 3  # at least the incident, the decision and the proposal
    audit = _scrape(stack, "audit")
    assert _gauge(audit, "tradeops_audit_checkpoint_age") >= 0
    assert 0 <= _gauge(audit, "tradeops_audit_checkpoint_behind") <= size
    for service in ("ops", "agent", "export"):
        text = _scrape(stack, service)
        assert _gauge(text, "tradeops_outbox_pending", f'service="{service}"') >= 0
        assert _gauge(text, "tradeops_outbox_lag", f'service="{service}"') >= 0
