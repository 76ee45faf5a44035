from __future__ import annotations

import pytest
from sqlalchemy import text

from runtime.db import Database
from services.audit.domain import GENESIS


@pytest.fixture
async def empty_log(audit_db: Database) -> Database:
    """The audit_db with the log emptied inside its rolled-back transaction, so seqs start at 0
    whatever other tests committed to the shared database."""
    async with audit_db.transaction() as session:
        await session.execute(text("DELETE FROM audit.payloads"))
        await session.execute(text("DELETE FROM audit.records"))
        await session.execute(
            text("UPDATE audit.head SET size = 0, last_hash = :genesis"), {"genesis": GENESIS}
        )
    return audit_db
