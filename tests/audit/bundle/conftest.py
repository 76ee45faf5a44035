from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.audit.log.grpc_api.servicer import spec
from services.audit.log.service.log import AuditLog, append
from tests.audit.bundle.cli import Cli
from tests.audit.factories import events
from tests.audit.logs import running_log
from tests.keys import verifier_for

LOG_SIZE = 30


class TakingTurns(Database):
    """The test database is one connection inside one rolled-back transaction, and its
    savepoints cannot interleave: the server's concurrent calls (16 proofs in flight) take turns.
    No use case opens a transaction while holding another, so turns cannot deadlock."""

    def __init__(self, inner: Database) -> None:
        self._inner, self._turn = inner, asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._turn, self._inner.transaction() as session:
            yield session


@pytest.fixture
async def log(empty_log: AuditLog) -> AsyncIterator[AuditLog]:
    """30 records appended as one batch: the first batch always cuts a checkpoint, so the latest
    signed tree has size 30; later audited reads append after it without a new checkpoint."""
    async with running_log(TakingTurns(empty_log.db)) as log:
        await append(log, events(LOG_SIZE))
        yield log


@pytest.fixture
async def cli(
    log: AuditLog, auth_settings: AuthSettings, token_for: Callable[..., str]
) -> AsyncIterator[Cli]:
    served = spec(log, [])
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    env = {
        "TRADEOPS_AUDIT_ADDR": f"127.0.0.1:{running.port}",
        "TRADEOPS_TOKEN": token_for("carol", "compliance"),
        "TRADEOPS_RPC_TIMEOUT_S": "5",
    }
    try:
        yield Cli(env)
    finally:
        await running.stop(0)


@pytest.fixture
async def whole(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "whole"
    assert await cli.export(folder) == 0
    return folder


@pytest.fixture
async def part(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "part"
    assert await cli.export(folder, "--from-seq", "5", "--to-seq", "12") == 0
    return folder
