from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from runtime.db import Database
from runtime.pgserver import LocalPostgres
from services.audit.log.domain.records import GENESIS
from services.audit.log.service.log import AuditLog
from tests.audit.logs import running_log
from tests.conftest import rolled_back


@pytest.fixture
async def audit_admin_db(
    pg_server: LocalPostgres, db_urls: dict[str, str]
) -> AsyncIterator[Database]:
    """Like audit_db but as the database superuser, who can get past the append-only guards
    (as a rogue administrator could); rolled back after the test."""
    async with rolled_back(pg_server.url(database="tradeops")) as db:
        yield db


async def tamper(db: Database, *statements: str) -> None:
    """Runs statements as a superuser with triggers off: what a rogue administrator can do."""
    async with db.transaction() as session:
        await session.execute(text("SET session_replication_role = replica"))
        for statement in statements:
            await session.execute(text(statement))
        await session.execute(text("SET session_replication_role = origin"))


@pytest.fixture
async def empty_log(audit_admin_db: Database) -> AsyncIterator[AuditLog]:
    """A running log, emptied inside a rolled-back superuser transaction, so seqs start at 0
    whatever other tests committed to the shared database."""
    await tamper(
        audit_admin_db,
        "DELETE FROM audit.payloads",
        "DELETE FROM audit.redactions",
        "DELETE FROM audit.records",
        "DELETE FROM audit.nodes",
        "DELETE FROM audit.checkpoints",
        f"UPDATE audit.head SET size = 0, last_hash = '{GENESIS}'",
    )
    async with running_log(audit_admin_db) as log:
        yield log
