"""Health that follows the database (runtime.health): the worker's transitions as a gRPC client
sees them, the database ping against a real PostgreSQL and against one that is gone or mute,
and the settings' errors."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.auth import TokenVerifier
from runtime.db import Database
from runtime.grpc_server import Running, ServiceSpec, start
from runtime.health import LIVENESS, HealthSettings
from runtime.pgserver import LocalPostgres, free_port
from runtime.settings import AuthSettings, SettingsError

SERVICE = "t.Thing"
QUICK = HealthSettings(every_s=0.05, timeout_s=0.5)
WAIT_S = 10.0


@dataclass
class FakeDatabase:
    """A probe whose answer the test sets: up, down (refused), or mute (never answers)."""

    state: str = "up"

    async def ping(self, timeout_s: float) -> None:
        if self.state == "down":
            raise ConnectionRefusedError("connection refused")
        if self.state == "mute":
            await asyncio.sleep(3600)


@pytest.fixture
async def served(auth_settings: AuthSettings) -> AsyncIterator[tuple[FakeDatabase, Running]]:
    database = FakeDatabase()
    spec = ServiceSpec(lambda server: None, [SERVICE], {})
    running = await start(
        spec, "127.0.0.1:0", TokenVerifier(auth_settings), ready=database.ping, health=QUICK
    )
    yield database, running
    await running.stop(0)


async def statuses(port: int) -> dict[str, str]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        found = {}
        for name in ("", SERVICE, LIVENESS):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            found[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return found


def everything(status: str) -> dict[str, str]:
    return {"": status, SERVICE: status, LIVENESS: "SERVING"}


async def eventually(port: int, wanted: dict[str, str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while (seen := await statuses(port)) != wanted:
        assert time.monotonic() < deadline, f"health stayed {seen}, wanted {wanted}"
        await asyncio.sleep(0.02)


async def test_health_follows_the_database_and_liveness_does_not(
    served: tuple[FakeDatabase, Running],
) -> None:
    database, running = served
    assert await statuses(running.port) == everything("SERVING")

    database.state = "down"
    await eventually(running.port, everything("NOT_SERVING"))
    database.state = "up"
    await eventually(running.port, everything("SERVING"))
    database.state = "mute"  # a database that hangs is as gone as one that refuses
    await eventually(running.port, everything("NOT_SERVING"))
    database.state = "up"
    await eventually(running.port, everything("SERVING"))


async def test_a_service_whose_database_is_down_at_start_starts_not_serving(
    auth_settings: AuthSettings,
) -> None:
    database = FakeDatabase("down")
    spec = ServiceSpec(lambda server: None, [SERVICE], {})
    running = await start(
        spec, "127.0.0.1:0", TokenVerifier(auth_settings), ready=database.ping, health=QUICK
    )
    try:
        assert await statuses(running.port) == everything("NOT_SERVING")
        database.state = "up"
        await eventually(running.port, everything("SERVING"))
    finally:
        await running.stop(0)


async def test_the_graceful_stop_turns_liveness_not_serving_too(
    served: tuple[FakeDatabase, Running],
) -> None:
    _, running = served
    await running.health.enter_graceful_shutdown()
    assert await statuses(running.port) == {
        "": "NOT_SERVING",
        SERVICE: "NOT_SERVING",
        LIVENESS: "NOT_SERVING",
    }


async def test_the_ping_answers_from_a_live_database_outside_its_pool(
    db_urls: dict[str, str],
) -> None:
    db = Database.connect(db_urls["ops"], pool_size=1)
    try:
        async with db.transaction():  # the pool's one connection is busy
            await db.ping(2.0)
            await db.ping(2.0)  # the same connection again
    finally:
        await db.dispose()


async def test_a_ping_whose_connection_the_server_ended_connects_again_at_once(
    db_urls: dict[str, str], pg_server: LocalPostgres
) -> None:
    """A restarted PostgreSQL ends every session, the ping's own too: the first ping after it
    answers from a new connection, so health never reads NOT_SERVING for a database that is
    back (round robin would skip the replica for a whole health period)."""
    db = Database.connect(db_urls["ops"])
    try:
        await db.ping(2.0)
        assert db._pinger is not None
        pid = db._pinger.info.backend_pid
        with psycopg.connect(pg_server.url(), autocommit=True) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert ended == (True,)
        await db.ping(2.0)
        assert db._pinger.info.backend_pid != pid
    finally:
        await db.dispose()


async def test_the_ping_fails_when_nothing_listens() -> None:
    db = Database.connect(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing")
    try:
        with pytest.raises(psycopg.OperationalError, match="refused"):
            await db.ping(2.0)
    finally:
        await db.dispose()


@pytest.fixture
def mute_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


async def test_the_ping_of_a_mute_database_is_bounded_by_the_health_timeout(
    mute_server: int,
) -> None:
    db = Database.connect(f"postgresql://nobody@127.0.0.1:{mute_server}/nothing")
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(db.ping(0.5), 0.5)
    finally:
        await db.dispose()


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_health_period_is_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match=f"TRADEOPS_HEALTH_CHECK_S .*{value!r}"):
        HealthSettings.from_env({"TRADEOPS_HEALTH_CHECK_S": value})
    with pytest.raises(SettingsError, match="TRADEOPS_HEALTH_TIMEOUT_S"):
        HealthSettings.from_env({"TRADEOPS_HEALTH_TIMEOUT_S": value})


def test_health_periods_default_to_one_and_two_seconds() -> None:
    assert HealthSettings.from_env({}) == HealthSettings(every_s=1.0, timeout_s=2.0)
    assert HealthSettings.from_env({"TRADEOPS_HEALTH_CHECK_S": "0.25"}).every_s == 0.25
