"""These tests commit for real into the shared test database, so they assert only relative
facts: other tests may have appended before them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from runtime.auth import Principal
from runtime.db import Database
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.verification import verify_log
from tests.audit.factories import events
from tests.audit.logs import running_log

WRITERS = 4
BATCH = 25


@pytest.fixture
async def writers(db_urls: dict[str, str]) -> AsyncIterator[list[AuditLog]]:
    """Independent writers, as replicas of the service would be: each its own engine and
    sequencer, all committing to the same log."""
    databases = [Database.connect(db_urls["audit"]) for _ in range(WRITERS)]
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_log(db)) for db in databases]
    for db in databases:
        await db.dispose()


async def test_concurrent_appends_get_distinct_contiguous_seqs_and_keep_the_chain_valid(
    writers: list[AuditLog], principal_for: Callable[..., Principal]
) -> None:
    results = await asyncio.gather(*(append(log, events(BATCH)) for log in writers))

    batches = [[r.seq for r in batch] for batch in results]
    for seqs in batches:
        assert seqs == list(range(seqs[0], seqs[0] + BATCH))
    everything = sorted(seq for seqs in batches for seq in seqs)
    assert everything == list(range(everything[0], everything[0] + WRITERS * BATCH))
    verdict = await verify_log(writers[0], caller=principal_for("carol", "compliance"))
    assert verdict.ok, verdict.reason
    assert verdict.checked >= WRITERS * BATCH


async def test_the_same_event_sent_by_two_writers_at_once_is_stored_once(
    writers: list[AuditLog],
) -> None:
    batch = events(5)

    first, second = await asyncio.gather(append(writers[0], batch), append(writers[1], batch))

    assert [r.seq for r in first] == [r.seq for r in second]
    assert sorted([first[0].duplicate, second[0].duplicate]) == [False, True]
