"""The whole system as real processes: four services and the gateway on the session's
PostgreSQL, talking gRPC on loopback, exporting spans to a local OTLP receiver."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest

from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import owner_url, provision, service_url
from runtime.settings import SERVICES
from runtime.stack import Stack
from tests.e2e.otlp import OtlpReceiver
from tests.keys import Keys

T = TypeVar("T")


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@contextmanager
def migrated_pg(data: Path, *, durable: bool) -> Iterator[LocalPostgres]:
    """A PostgreSQL in `data` with every service's schema, stopped on exit."""
    server = LocalPostgres(data, durable=durable)
    server.start()
    try:
        provision(server.url())
        for service in SERVICES:
            upgrade(service, owner_url(server.url(), service))
        yield server
    finally:
        server.stop()


def database(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> AbstractContextManager[LocalPostgres]:
    """A PostgreSQL server of its own for the end-to-end tests (durability is not their
    subject), provisioned and migrated for every service."""
    return migrated_pg(tmp_path_factory.mktemp(name) / "data", durable=False)


@contextmanager
def system(
    pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver, keys: Keys
) -> Iterator[Stack]:
    """The four services and the gateway on `pg`, until the block ends."""
    home = tmp_path_factory.mktemp("stack")
    db_urls = {service: service_url(pg.url(), service) for service in SERVICES}
    env = {**os.environ, **_stack_env(db_urls, home, otlp.endpoint, keys)}
    with Stack(env, home / "logs") as running:
        yield running


@pytest.fixture(scope="session")
def e2e_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A server of its own: the running services commit for real, and other tests' outboxes
    and tables must not see their rows."""
    with database(tmp_path_factory, "e2e-pg") as server:
        yield server


@pytest.fixture(scope="session")
def stack(
    e2e_pg: LocalPostgres,
    tmp_path_factory: pytest.TempPathFactory,
    otlp: OtlpReceiver,
    keys: Keys,
) -> Iterator[Stack]:
    with system(e2e_pg, tmp_path_factory, otlp, keys) as running:
        yield running


def _stack_env(
    db_urls: dict[str, str], home: Path, otlp_endpoint: str, keys: Keys
) -> dict[str, str]:
    env = {
        **keys.env(),
        "TRADEOPS_EXPORT_DIR": str(home / "exports"),
        "TRADEOPS_OUTBOX_POLL_S": "0.2",
        "TRADEOPS_AUDIT_SIGNING_KEYS_FILE": str(home / "audit-signing-keys.json"),
        "TRADEOPS_AUDIT_CREATE_DEV_KEYS": "1",
        "TRADEOPS_EXPORT_SIGNING_KEY_FILE": str(home / "export-signing-key.pem"),
        "TRADEOPS_EXPORT_CREATE_DEV_KEY": "1",
        "TRADEOPS_GATEWAY_PORT": str(free_port()),
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    for service in SERVICES:
        env[f"TRADEOPS_{service.upper()}_DATABASE_URL"] = db_urls[service]
        env[f"TRADEOPS_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    for process in (*SERVICES, "gateway"):
        env[f"TRADEOPS_{process.upper()}_METRICS_PORT"] = str(free_port())
    return env


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url(), timeout=15) as client:
        yield client


@pytest.fixture
def admin_sql(e2e_pg: LocalPostgres) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection, for looking behind the services' backs."""
    with psycopg.connect(e2e_pg.url(database="tradeops"), autocommit=True) as conn:
        yield conn


@pytest.fixture
def auth_header(token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def make(subject: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(subject, *roles)}"}

    return make


def eventually(probe: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """Polls until probe returns something truthy; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or probe}")
