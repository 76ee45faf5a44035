"""Round robin over replicas follows their gRPC health (runtime.retries' healthCheckConfig): a
replica whose database does not answer (runtime.health: NOT_SERVING) gets no calls, though it
still answers one sent to it, and gets them again once its database answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

from runtime import grpc_server
from runtime.auth import ANYONE, TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.health import HealthSettings
from runtime.settings import AuthSettings

SERVICE, METHOD = "tradeops.ops.v1.OpsService", "GetAction"
PATH = f"/{SERVICE}/{METHOD}"
QUICK = HealthSettings(every_s=0.1, timeout_s=1.0)


class Replica:
    """A server answering METHOD with its name, whose database answers while `database_up`."""

    def __init__(self, name: str) -> None:
        self.name, self.database_up = name, True
        self.running: grpc_server.Running | None = None

    def register(self, server: grpc.aio.Server) -> None:
        async def answer(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            return self.name.encode()

        handlers = {METHOD: grpc.unary_unary_rpc_method_handler(answer)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))

    async def ping(self, timeout_s: float) -> None:
        if not self.database_up:
            raise ConnectionRefusedError("connection to the database refused")

    async def start(self, verifier: TokenVerifier) -> int:
        spec = grpc_server.ServiceSpec(self.register, [SERVICE], {PATH: ANYONE})
        self.running = await grpc_server.start(
            spec, "127.0.0.1:0", verifier, ready=self.ping, health=QUICK
        )
        return self.running.port


@pytest.fixture
async def up_and_down(auth_settings: AuthSettings) -> AsyncIterator[tuple[Replica, Replica]]:
    up, down = Replica("up"), Replica("down")
    down.database_up = False
    verifier = TokenVerifier(auth_settings)
    await up.start(verifier)
    await down.start(verifier)
    yield up, down
    for replica in (up, down):
        assert replica.running is not None
        await replica.running.stop(0)


async def test_round_robin_skips_a_replica_that_is_not_serving_until_it_serves_again(
    up_and_down: tuple[Replica, Replica], token_for: Callable[..., str]
) -> None:
    up, down = up_and_down
    assert up.running is not None
    assert down.running is not None
    token = bearer(token_for("vera", "viewer"))
    # Without a service config (no health checking), the NOT_SERVING replica answers a call.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{down.running.port}") as direct:
        reply = await direct.unary_unary(PATH, None, None)(b"", timeout=5, metadata=token)
    assert reply == b"down"

    address = f"127.0.0.1:{up.running.port},127.0.0.1:{down.running.port}"
    async with open_channel(address) as channel:
        method = channel.unary_unary(PATH, None, None)
        answers = Counter([(await method(b"", timeout=5, metadata=token)) for _ in range(20)])
        assert answers == {b"up": 20}

        down.database_up = True  # its next health check says SERVING; round robin takes it back
        back = Counter[bytes]()
        for _ in range(200):
            back[await method(b"", timeout=5, metadata=token)] += 1
            if back[b"down"] >= 3:
                break
            await asyncio.sleep(0.05)
        assert back[b"down"] >= 3, f"the replica serving again got no calls: {back}"


async def test_health_watch_streams_through_the_servers_interceptors(
    up_and_down: tuple[Replica, Replica],
) -> None:
    """What round robin asks each replica: Watch, a server stream, which the server's own
    interceptors (runtime.grpc_metrics) iterate."""
    up, down = up_and_down
    for replica, status in ((up, "SERVING"), (down, "NOT_SERVING")):
        assert replica.running is not None
        async with grpc.aio.insecure_channel(f"127.0.0.1:{replica.running.port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=""), timeout=5
            )
            first = await watch.read()
            watch.cancel()
        assert isinstance(first, health_pb2.HealthCheckResponse)
        assert health_pb2.HealthCheckResponse.ServingStatus.Name(first.status) == status


async def test_health_watch_streams_through_opentelemetry_too(auth_settings: AuthSettings) -> None:
    """With tracing on (runtime.telemetry), OpenTelemetry's interceptor wraps every server
    stream and iterates it."""
    untyped: Any = GrpcAioInstrumentorServer  # the instrumentation ships no types
    instrumentor = untyped()
    instrumentor.instrument()
    try:
        replica = Replica("traced")
        await replica.start(TokenVerifier(auth_settings))
    finally:
        instrumentor.uninstrument()
    assert replica.running is not None
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{replica.running.port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=""), timeout=5
            )
            first = await watch.read()
            watch.cancel()
    finally:
        await replica.running.stop(0)
    assert isinstance(first, health_pb2.HealthCheckResponse)
    assert first.status == health_pb2.HealthCheckResponse.SERVING
