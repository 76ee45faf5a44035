"""Verification while the log changes under it: a record redacted after a run has started, on
a page the run has not read yet, is no alarm; a payload erased mid-run without a recorded
redaction still is. The change lands deterministically between two of the run's page reads
(after its first page, before the transaction of its next), committed on its own, as a
redaction by another caller or a rogue administrator would be."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.records import Record
from services.audit.log.repository import records as repository
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.reading import PAGE, list_records
from services.audit.log.service.redaction import REDACTED, redact
from services.audit.log.service.verification import verify_log
from tests.audit.conftest import tamper
from tests.audit.factories import COMPLIANCE_OFFICER, READER, events

SIZE = 3 * PAGE  # three full pages
VICTIM = 2 * PAGE + 7  # on the last page


@pytest.fixture
async def large_log(empty_log: AuditLog) -> AuditLog:
    for _ in range(SIZE // PAGE):
        await append(empty_log, events(PAGE))
    return empty_log


def between_pages(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[object]]
) -> None:
    """Runs `change` once, after a verification has read its first page and before it opens
    its next transaction (the test database is one connection: one transaction at a time)."""
    state = {"first_page_read": False, "changed": False}
    read_page, open_transaction = repository.page, log.db.transaction

    async def page(session: AsyncSession, **query: Any) -> list[Record]:
        found = await read_page(session, **query)
        if query.get("after_seq") == -1 and query.get("limit") == PAGE:
            state["first_page_read"] = True
        return found

    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        if state["first_page_read"] and not state["changed"]:
            state["changed"] = True  # the change's own transactions pass straight through
            await change()
        async with open_transaction() as session:
            yield session

    monkeypatch.setattr(repository, "page", page)
    monkeypatch.setattr(log.db, "transaction", transaction)


async def appended_since(log: AuditLog, after_seq: int) -> list[Record]:
    return (await list_records(log, caller=READER, after_seq=after_seq, limit=10)).records


async def test_a_redaction_during_a_verification_is_no_false_alarm(
    large_log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    between_pages(
        large_log,
        monkeypatch,
        lambda: redact(large_log, caller=COMPLIANCE_OFFICER, seq=VICTIM, reason="GDPR erasure"),
    )

    verdict = await verify_log(large_log, caller=COMPLIANCE_OFFICER)

    assert (verdict.ok, verdict.checked, verdict.reason) == (True, SIZE, "")
    monkeypatch.undo()
    # The redaction landed mid-run (its record lies beyond the head the run verified) and the
    # run's own record says ok; no verification.failed alert was appended.
    after = await appended_since(large_log, SIZE - 1)
    assert [(r.event.action, r.event.target) for r in after] == [
        (REDACTED, f"record/{VICTIM}"),
        ("audit.chain.verified", "log/audit"),
    ]
    assert json.loads(after[1].event.payload_json or "")["ok"] is True
    victim = await appended_since(large_log, VICTIM - 1)
    assert (victim[0].seq, victim[0].event.payload_json) == (VICTIM, None)
    assert (await verify_log(large_log, caller=COMPLIANCE_OFFICER)).ok


async def test_a_payload_erased_during_a_verification_without_a_redaction_is_caught(
    large_log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    erase = f"UPDATE audit.payloads SET payload_json = NULL WHERE seq = {VICTIM}"
    between_pages(large_log, monkeypatch, lambda: tamper(large_log.db, erase))

    verdict = await verify_log(large_log, caller=COMPLIANCE_OFFICER)

    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (
        False,
        VICTIM,
        "the stored payload is missing",
    )
    monkeypatch.undo()
    after = await appended_since(large_log, SIZE - 1)
    assert [(r.event.action, r.event.outcome) for r in after] == [
        ("audit.chain.verified", "failure"),
        ("audit.verification.failed", "failure"),
    ]
