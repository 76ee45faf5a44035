"""Shared fixtures: one throwaway PostgreSQL for the session, migrated by every service's own
Alembic environment; per-test databases that roll back; tokens for every role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from runtime.auth import Principal
from runtime.db import Database, sqlalchemy_url
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import owner_url, provision, service_url
from runtime.settings import SERVICES, AuthSettings
from tests.keys import Keys, owner_of


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys.make(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def auth_settings(keys: Keys) -> AuthSettings:
    """In-process servers' settings: trust as configured, the name "tests"."""
    return keys.settings


@pytest.fixture(scope="session")
def serving(keys: Keys) -> Callable[[str], AuthSettings]:
    """The settings of one service: its own key, and tokens addressed to it."""
    return keys.serving


@pytest.fixture(scope="session")
def token_for(keys: Keys) -> Callable[..., str]:
    """A person's token, or with the role `service` a token from that service's own key."""
    return keys.token


@pytest.fixture(scope="session")
def principal_for(token_for: Callable[..., str]) -> Callable[..., Principal]:
    def make(subject: str, *roles: str) -> Principal:
        owner = owner_of(subject) if "service" in roles else ""
        return Principal(subject, frozenset(roles), "", token_for(subject, *roles), owner)

    return make


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    server = LocalPostgres(tmp_path_factory.mktemp("pg") / "data", durable=False)
    server.start()
    provision(server.url())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def db_urls(pg_server: LocalPostgres) -> dict[str, str]:
    """Each service's own URL (its own role) on the test database, migrated as each schema's
    owner role."""
    for svc in SERVICES:
        upgrade(svc, owner_url(pg_server.url(), svc))
    return {svc: service_url(pg_server.url(), svc) for svc in SERVICES}


@asynccontextmanager
async def rolled_back(url: str) -> AsyncIterator[Database]:
    """A Database whose every transaction is undone after the test (SQLAlchemy's "join a
    session into an external transaction" recipe, with savepoints for the inner commits)."""
    engine = create_async_engine(sqlalchemy_url(url))
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield Database(
            async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        )
        await outer.rollback()
    await engine.dispose()


@pytest.fixture
async def ops_owner_db(
    db_urls: dict[str, str], pg_server: LocalPostgres
) -> AsyncIterator[Database]:
    """The ops schema as its owner role, for what only an owner may do (ANALYZE, which
    autovacuum does for the service in production)."""
    async with rolled_back(owner_url(pg_server.url(), "ops")) as db:
        yield db


@pytest.fixture
async def ops_db(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    async with rolled_back(db_urls["ops"]) as db:
        yield db


@pytest.fixture
async def agent_db(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    async with rolled_back(db_urls["agent"]) as db:
        yield db


@pytest.fixture
async def audit_db(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    async with rolled_back(db_urls["audit"]) as db:
        yield db


@pytest.fixture
async def export_db(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    async with rolled_back(db_urls["export"]) as db:
        yield db


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# Fixtures that start a PostgreSQL server. A test that uses one, directly or through another
# fixture, is marked `postgres`; `make test-matrix` runs the others on every supported Python.
POSTGRES_FIXTURES = frozenset(
    {
        "pg_server",
        "e2e_pg",
        "drill_pg",
        "own_pg",
        "k8s_cluster",
        "fuzzed",
        "console_pg",
        "restarted_pg",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
