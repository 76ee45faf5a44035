"""Forwarding tests need committed rows: a forwarder reads with connections of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime.db import Database


@pytest.fixture
async def live_db(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    db = Database.connect(db_urls["audit"])
    yield db
    await db.dispose()
