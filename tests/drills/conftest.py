"""Fault drills: the whole system as real processes on a PostgreSQL of its own (durable: the
drills are about what survives), loopback only. The stack is shared by the drills; before each
drill every process that a previous one left down is started again."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from runtime.pgserver import LocalPostgres
from runtime.provision import service_url
from runtime.settings import SERVICES
from runtime.stack import Stack
from tests.drills.ledger import Ledger
from tests.drills.load import Load
from tests.e2e.conftest import _stack_env, migrated_pg
from tests.keys import Keys


@pytest.fixture(scope="session")
def drill_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with migrated_pg(tmp_path_factory.mktemp("drill-pg") / "data", durable=True) as server:
        yield server


@pytest.fixture(scope="session")
def drill_stack(
    drill_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("drill-stack")
    with Stack(drill_env(drill_pg, home, keys), home / "logs") as running:
        yield running


def drill_env(pg: LocalPostgres, home: Path, keys: Keys) -> dict[str, str]:
    db_urls = {service: service_url(pg.url(), service) for service in SERVICES}
    env = {**os.environ, **_stack_env(db_urls, home, "", keys)}
    # No OTLP receiver here: spans and metrics would only pile up in the exporters' retries.
    env.update({"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"})
    env.update({"TRADEOPS_TRACING": "off", "OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    return env


def all_up(stack: Stack, pg: LocalPostgres) -> Stack:
    """`stack` with every process up (a failed drill may have left one down)."""
    if not pg.running():
        pg.start()
    for name in stack.processes():
        if name not in stack.procs or stack.procs[name].poll() is not None:
            stack.stop_one(name)
            stack.start_one(name)
    return stack


@pytest.fixture
def stack(drill_stack: Stack, drill_pg: LocalPostgres) -> Stack:
    """The shared stack with every process up."""
    return all_up(drill_stack, drill_pg)


@pytest.fixture
def admin_sql(drill_pg: LocalPostgres) -> Callable[[], psycopg.Connection[Any]]:
    """Opens a superuser connection, for looking behind the services' backs (a fresh one each
    time: the drills restart PostgreSQL)."""
    return lambda: psycopg.connect(drill_pg.url(database="tradeops"), autocommit=True)


@pytest.fixture
def load(stack: Stack, token_for: Callable[..., str]) -> Iterator[Load]:
    running = Load(stack, token_for)
    yield running
    running.stop()


@pytest.fixture
def ledger(
    stack: Stack, admin_sql: Callable[[], psycopg.Connection[Any]], token_for: Callable[..., str]
) -> Ledger:
    return Ledger(stack, admin_sql, token_for("carol", "compliance"))
