"""StreamRecordPages: the records StreamRecords sends, many to a message, on the real log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
import pytest

from runtime.auth import TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.audit.grpc_api import spec
from services.audit.record_pages import record_pages
from services.audit.service import AuditLog, append
from tests.audit.factories import READER, events
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Token = Callable[..., str]


@pytest.fixture
async def audit(
    empty_log: AuditLog, auth_settings: AuthSettings
) -> AsyncIterator[pb_grpc.AuditServiceAsyncStub]:
    running = await start(spec(empty_log, []), "127.0.0.1:0", TokenVerifier(auth_settings))
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
