from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from google.protobuf import json_format

from runtime.clients import bearer, open_channel
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.audit.log.grpc_api.servicer import spec
from services.audit.log.service.log import AuditLog
from tests.keys import verifier_for
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

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


def message(target: str = "action/1", payload: str = '{"qty":5}') -> pb.AuditEvent:
    event = pb.AuditEvent(
        event_id=str(uuid.uuid4()),
        actor=common_pb2.Actor(subject="alice", roles=["ops"], kind="person", desk="fx"),
        action="ops.action.approved",
        target=target,
        outcome="success",
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        payload_json=payload,
        source="ops",
    )
    event.occurred_at.FromJsonString("2024-05-01T12:30:45.123456Z")
    return event


async def send(
    audit: pb_grpc.AuditServiceAsyncStub, token: str, *events: pb.AuditEvent
) -> pb.AppendEventsResponse:
    request = pb.AppendEventsRequest(events=events)
    return await audit.AppendEvents(request, metadata=bearer(token), timeout=5)


async def test_a_call_without_a_valid_token_is_unauthenticated(
    audit: pb_grpc.AuditServiceAsyncStub,
) -> None:
    request = pb.ListRecordsRequest(after_seq=-1)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await audit.ListRecords(request, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as forged:
        await audit.ListRecords(request, metadata=bearer("not.a.jwt"), timeout=5)

    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert forged.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_trader_may_not_verify_the_chain(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await audit.VerifyChain(
            pb.VerifyChainRequest(), metadata=bearer(token_for("bob", "trader")), timeout=5
        )

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_person_may_not_append_even_as_admin(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await send(audit, token_for("root", "admin"), message())

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_viewer_may_not_stream_records(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    request = pb.StreamRecordsRequest(from_seq=0, to_seq=-1)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in audit.StreamRecords(request, metadata=bearer(token_for("v", "viewer"))):
            pass

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_service_appends_and_compliance_verifies_the_chain(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    service = token_for("svc:ops", "service")
    first, second = message(), message()

    appended = await send(audit, service, first, second)
    resent = await send(audit, service, first)
    verdict = await audit.VerifyChain(
        pb.VerifyChainRequest(), metadata=bearer(token_for("carol", "compliance")), timeout=5
    )

    assert [(r.event_id, r.seq, r.duplicate) for r in appended.results] == [
        (first.event_id, 0, False),
        (second.event_id, 1, False),
    ]
    assert [(r.seq, r.duplicate) for r in resent.results] == [(0, True)]
    assert (verdict.ok, verdict.checked, verdict.first_bad_seq) == (True, 2, -1)


async def test_an_invalid_event_is_refused_as_an_invalid_argument(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await send(audit, token_for("svc:ops", "service"), message(), message(payload="[]"))

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events[1]" in (refused.value.details() or "")


async def test_a_listed_record_carries_the_event_and_a_hash_a_client_can_recompute(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    sent = message(payload='{"note":"naïve","qty":5}')
    await send(audit, token_for("svc:ops", "service"), sent)

    page = await audit.ListRecords(
        pb.ListRecordsRequest(after_seq=-1), metadata=bearer(token_for("v", "viewer")), timeout=5
    )

    record = page.records[0]
    assert record.event == sent
    assert record.HasField("recorded_at")
    assert record.payload_sha256 == hashlib.sha256(sent.payload_json.encode()).hexdigest()
    assert record.leaf_hash == hashlib.sha256(b"\x00" + canonical(record).encode()).hexdigest()


def canonical(record: pb.AuditRecord) -> str:
    """The encoding as the .proto comment specifies it, written from the contract alone."""
    event = record.event
    actor = json_format.MessageToDict(event.actor, always_print_fields_with_no_presence=True)
    fields = {
        "seq": record.seq,
        "event_id": event.event_id,
        "occurred_at": event.occurred_at.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": {
            "subject": actor["subject"],
            "roles": actor["roles"],
            "kind": actor["kind"],
            "logic_version": actor["logicVersion"],
            "desk": actor["desk"],
        },
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "trace_id": event.trace_id,
        "source": event.source,
        "payload_sha256": record.payload_sha256,
        "prev_hash": record.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def test_records_are_listed_page_by_page(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    await send(audit, token_for("svc:ops", "service"), *(message() for _ in range(5)))
    viewer, cursor, pages = bearer(token_for("v", "viewer")), -1, []

    # Only the five appended events: every read is itself an audit record, so paging the whole
    # log would never reach its end.
    while cursor < 4:
        request = pb.ListRecordsRequest(after_seq=cursor, limit=2, action="ops.action.approved")
        page = await audit.ListRecords(request, metadata=viewer, timeout=5)
        pages.append([r.seq for r in page.records])
        cursor = page.last_seq

    assert pages == [[0, 1], [2, 3], [4]]
    reads = pb.ListRecordsRequest(after_seq=-1, limit=10, action="audit.records.read")
    audited = await audit.ListRecords(reads, metadata=viewer, timeout=5)
    assert [r.event.actor.subject for r in audited.records] == ["v", "v", "v"]
    assert audited.log_size == 5 + 3


async def test_a_service_streams_an_inclusive_range(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    service = bearer(token_for("svc:export", "service"))
    await send(audit, token_for("svc:ops", "service"), *(message() for _ in range(5)))

    request = pb.StreamRecordsRequest(from_seq=1, to_seq=3)
    seqs = [r.seq async for r in audit.StreamRecords(request, metadata=service, timeout=5)]

    assert seqs == [1, 2, 3]


async def test_a_service_appends_only_events_of_its_own_source(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Token
) -> None:
    gateway = token_for("svc:gateway", "service")
    with pytest.raises(grpc.aio.AioRpcError) as posing:
        await send(audit, gateway, message())  # source "ops"
    assert posing.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "may append only events of source 'gateway'" in (posing.value.details() or "")
    own = message()
    own.source = "gateway"
    assert len((await send(audit, gateway, own)).results) == 1
    agent_part = message()
    agent_part.source = "agent.triggers"
    assert len((await send(audit, token_for("svc:agent", "service"), agent_part)).results) == 1
