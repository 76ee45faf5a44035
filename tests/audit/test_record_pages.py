"""StreamRecordPages: the records StreamRecords sends, many to a message, on the real log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

import grpc
import pytest

from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.audit.log.domain.records import Actor
from services.audit.log.grpc_api import messages
from services.audit.log.grpc_api.pages import record_pages
from services.audit.log.grpc_api.servicer import spec
from services.audit.log.service import reading
from services.audit.log.service.log import AuditLog, append
from tests.audit.conftest import tamper
from tests.audit.factories import READER, event, events
from tests.audit.logs import running_log
from tests.keys import verifier_for
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Token = Callable[..., str]


@pytest.fixture
async def audit(
    empty_log: AuditLog, auth_settings: AuthSettings
) -> AsyncIterator[pb_grpc.AuditServiceAsyncStub]:
    served = spec(empty_log, [])
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            yield pb_grpc.AuditServiceStub(channel)
    finally:
        await running.stop(0)


async def test_pages_carry_the_same_records_as_the_record_stream(
    empty_log: AuditLog, audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    await append(empty_log, events(7))
    exporter = bearer(token_for("svc:export", "service"))
    request = pb.StreamRecordsRequest(from_seq=1, to_seq=5)

    pages = [p async for p in audit.StreamRecordPages(request, metadata=exporter, timeout=5)]
    one_by_one = [r async for r in audit.StreamRecords(request, metadata=exporter, timeout=5)]

    assert [r for page in pages for r in page.records] == one_by_one
    assert [r.seq for r in one_by_one] == [1, 2, 3, 4, 5]


async def test_a_long_range_is_cut_into_full_pages_in_seq_order(empty_log: AuditLog) -> None:
    await append(empty_log, events(600))

    found = record_pages(empty_log, caller=READER, from_seq=0, to_seq=599, page_size=250)
    sizes: list[int] = []
    seqs: list[int] = []
    async for page in found:
        sizes.append(len(page.records))
        seqs.extend(r.seq for r in page.records)

    assert sizes == [250, 250, 100]
    assert seqs == list(range(600))


async def test_streaming_pages_is_audited_like_streaming_records(empty_log: AuditLog) -> None:
    await append(empty_log, events(3))

    pages = [p async for p in record_pages(empty_log, caller=READER, from_seq=0, to_seq=-1)]
    after = [p async for p in record_pages(empty_log, caller=READER, from_seq=3, to_seq=-1)]

    assert [r.seq for r in pages[0].records] == [0, 1, 2]
    read = after[0].records[0]
    assert (read.seq, read.event.action) == (3, "audit.records.streamed")
    assert read.event.actor.subject == READER.subject
    assert '"from_seq":0' in read.event.payload_json


async def test_a_viewer_may_not_stream_pages(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    request = pb.StreamRecordsRequest(from_seq=0, to_seq=-1)
    viewer = bearer(token_for("v", "viewer"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in audit.StreamRecordPages(request, metadata=viewer, timeout=5):
            pass

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_backwards_range_is_an_invalid_argument(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    request = pb.StreamRecordsRequest(from_seq=5, to_seq=2)
    compliance = bearer(token_for("carol", "compliance"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in audit.StreamRecordPages(request, metadata=compliance, timeout=5):
            pass

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_pages_hold_what_the_record_stream_holds_whatever_the_rows_say(
    empty_log: AuditLog, audit_admin_db: Database
) -> None:
    agent = Actor("triage-bot", ("agent",), "agent", "triage-2.1", "rates")
    before_1970 = datetime(1969, 7, 20, 20, 17, 40, 5, tzinfo=UTC)
    await append(
        empty_log,
        [
            replace(event(payload={"n": 0}), actor=agent, occurred_at=before_1970),
            event(payload={"redacted": True}),
            event(payload={"n": 2}),
            event(payload={"n": 3}),
        ],
    )
    await tamper(
        audit_admin_db,
        "UPDATE audit.payloads SET payload_json = NULL WHERE seq = 1",
        """UPDATE audit.records SET actor = '["not", "an", "object"]' WHERE seq = 2""",
        """UPDATE audit.records SET actor = '{"subject": 7, "roles": "ops"}' WHERE seq = 3""",
    )

    pages = record_pages(empty_log, caller=READER, from_seq=0, to_seq=3, page_size=3)
    paged = [r async for page in pages for r in page.records]
    streamed = reading.stream(empty_log, caller=READER, from_seq=0, to_seq=3)
    one_by_one = [messages.record(r) async for r in streamed]

    assert paged == one_by_one
    assert paged[0].event.occurred_at.ToDatetime(tzinfo=UTC) == before_1970
    assert paged[0].event.actor.logic_version == "triage-2.1"
    assert paged[1].event.payload_json == ""
    assert paged[2].event.actor.subject == ""
    assert (paged[3].event.actor.subject, list(paged[3].event.actor.roles)) == ("7", list("ops"))


async def test_a_reader_that_stops_early_leaves_the_log_readable(empty_log: AuditLog) -> None:
    await append(empty_log, events(10))

    pages = record_pages(empty_log, caller=READER, from_seq=0, to_seq=9, page_size=2)
    first = await anext(pages)
    await pages.aclose()
    again = record_pages(empty_log, caller=READER, from_seq=0, to_seq=-1, page_size=4)
    seqs = [r.seq async for page in again for r in page.records]

    assert [r.seq for r in first.records] == [0, 1]
    assert seqs == list(range(11))  # the ten, and the first read's own record


async def test_streams_stopped_early_leave_the_pooled_connections_usable(
    db_urls: dict[str, str],
) -> None:
    db = Database.connect(db_urls["audit"], pool_size=1)  # one read connection to share
    try:
        async with running_log(db) as log:
            appended = await append(log, events(6))
            first, last = appended[0].seq, appended[-1].seq
            for _ in range(3):  # each stop cancels the page being read ahead
                pages = record_pages(log, caller=READER, from_seq=first, to_seq=last, page_size=2)
                await anext(pages)
                await pages.aclose()
            again = record_pages(log, caller=READER, from_seq=first, to_seq=last, page_size=4)
            seqs = await asyncio.wait_for(_seqs(again), 10)
    finally:
        await db.dispose()

    assert seqs == list(range(first, last + 1))


async def _seqs(pages: AsyncIterator[pb.RecordPage]) -> list[int]:
    return [record.seq async for page in pages for record in page.records]
