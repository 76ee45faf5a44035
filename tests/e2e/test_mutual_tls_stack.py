"""The whole system with mutual TLS switched on by its one setting: a second set of the five
processes (replicas on the same database, as a deployment would run them) started with
TRADEOPS_TLS_DIR from `tradeops certs` serves a request end to end, and a peer without a
certificate is refused. Ops runs as two replicas reached through a static address list, whose
certificates are checked against ops' name."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.cli import main as cli
from runtime.pgserver import free_port
from runtime.settings import SERVICES
from runtime.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_seed_flow import LATENCY_INCIDENT


@pytest.fixture(scope="module")
def tls_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("tls-stack")
    assert cli(["certs", "--dir", str(home / "tls"), "--days", "1"]) == 0
    env = {**stack.env, "TRADEOPS_TLS_DIR": str(home / "tls")}
    env["TRADEOPS_GATEWAY_PORT"] = str(free_port())
    for service in SERVICES:
        env[f"TRADEOPS_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    # Two replicas of ops behind a static list: each must present ops' certificate.
    env["TRADEOPS_OPS_ADDR"] = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    for process in (*SERVICES, "gateway"):
        env.pop(f"TRADEOPS_{process.upper()}_METRICS_PORT", None)
    # Readiness is checked over mutual TLS with the "cli" certificate.
    with Stack(env, home / "logs") as running:
        yield running


def test_a_request_crosses_every_hop_over_mutual_tls(
    tls_stack: Stack, auth_header: Callable[..., dict[str, str]]
) -> None:
    headers = auth_header("olga", "ops")
    with httpx.Client(base_url=tls_stack.gateway_url(), timeout=15) as api:
        incident = api.post("/incidents", json=LATENCY_INCIDENT, headers=headers)
        assert incident.status_code == 201, incident.text
        decision = api.post(
            "/agent/triage", json={"incident_id": incident.json()["id"]}, headers=headers
        )
        assert decision.status_code == 201, decision.text
        assert decision.json()["action_id"]  # the agent reached ops over TLS


def test_each_ops_replica_is_reached_over_mutual_tls_through_the_list(
    tls_stack: Stack, auth_header: Callable[..., dict[str, str]]
) -> None:
    headers = auth_header("olga", "ops")

    def proposed(api: httpx.Client) -> str:
        """The action the agent proposed to ops for a fresh incident; "" when ops was not
        reached (the agent's channel may still be waiting to reconnect to a replica back up)."""
        fresh = {**LATENCY_INCIDENT, "subject": f"XNAS-ITCH-{secrets.token_hex(4)}"}
        incident = api.post("/incidents", json=fresh, headers=headers)
        triage = {"incident_id": incident.json()["id"]}
        decision = api.post("/agent/triage", json=triage, headers=headers)
        assert decision.status_code == 201, decision.text
        return str(decision.json()["action_id"])

    with httpx.Client(base_url=tls_stack.gateway_url(), timeout=15) as api:
        for down in ("ops-1", "ops-2"):
            tls_stack.stop_one(down)  # the other one alone must answer
            try:
                eventually(lambda: proposed(api), what=f"ops reached with {down} down")
            finally:
                tls_stack.start_one(down)


def test_a_peer_without_a_certificate_is_refused(tls_stack: Stack) -> None:
    async def check() -> None:
        async with grpc.aio.insecure_channel(tls_stack.address("ops")) as channel:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3
            )

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(check())
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert Path(tls_stack.env["TRADEOPS_TLS_DIR"], "ops.key").exists()
