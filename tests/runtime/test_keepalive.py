"""Client keepalive against the servers' ping floor. Clients ping every open connection (a
health Watch keeps one open to every replica: runtime.retries); a server that finds the pings
too close ends the connection with "too_many_pings" and fails every call on it. The product's
periods are tens of seconds, so the behaviour is shown at a smaller scale: pings exactly as
often as the server allows keep a watched connection up, pings ten times too often end it (so
the check can fail), and the product's client pings no more often than its servers allow."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime import clients, grpc_server
from runtime.auth import TokenVerifier
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings

PING_S = 0.5
WATCH_S = 6.0  # twelve pings: the server ends a connection at its third ping that is too close


async def _watch_while_pinging(port: int) -> str:
    """Keeps a Watch open for WATCH_S while pinging every PING_S; how the stream fared."""
    options = [
        ("grpc.keepalive_time_ms", int(PING_S * 1000)),
        ("grpc.http2.max_pings_without_data", 0),  # ping on, even though no data flows
    ]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        stream = stub.Watch(health_pb2.HealthCheckRequest())

        async def read() -> None:
            async for _ in stream:
                pass

        try:
            await asyncio.wait_for(read(), WATCH_S)
        except TimeoutError:
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            return "open"
        except grpc.aio.AioRpcError as exc:
            return f"{exc.code().name}: {exc.details()}"
        return "ended"


@pytest.mark.parametrize(
    ("floor_s", "fared"),
    [(PING_S, "open"), (10 * PING_S, "UNAVAILABLE: Too many pings")],
    ids=["as-often-as-allowed", "too-often"],
)
async def test_a_watched_connection_stays_up_while_pings_respect_the_servers_floor(
    floor_s: float, fared: str, auth_settings: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grpc_server, "MIN_PING_INTERVAL_S", floor_s)
    spec = ServiceSpec(lambda server: None, ["t.Thing"], {})
    running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    try:
        assert await _watch_while_pinging(running.port) == fared
    finally:
        await running.stop(0)


def test_the_clients_ping_no_more_often_than_the_servers_allow() -> None:
    assert clients.KEEPALIVE_S >= grpc_server.MIN_PING_INTERVAL_S
    assert ("grpc.keepalive_time_ms", int(clients.KEEPALIVE_S * 1000)) in clients.OPTIONS
