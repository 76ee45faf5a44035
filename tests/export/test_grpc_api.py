from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from runtime.clients import bearer, open_channel
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.export.domain.signing import PinnedKeys, Signer
from services.export.grpc_api.servicer import ExportServicer, spec
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.exports import Exporter
from tests.export.conftest import NOTE, ROOT, FakeAudit, signed_checkpoint
from tests.export.test_create_export import events_for
from tests.keys import verifier_for
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

EXTRACT = pb.CreateExportRequest(kind="audit_extract", from_seq=0, to_seq=-1)


@pytest.fixture
async def stub(
    exporter: Exporter, auth_settings: AuthSettings
) -> AsyncIterator[pb_grpc.ExportServiceAsyncStub]:
    keys = PinnedKeys.of(exporter.signer, datetime.now(UTC), [])
    config = DeliveryConfig(destinations={}, export_dir=exporter.export_dir, keys=keys)
    served = spec(ExportServicer(exporter, config))
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb_grpc.ExportServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)


async def test_creating_an_export_without_a_token_is_unauthenticated(
    stub: pb_grpc.ExportServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(EXTRACT, timeout=5)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_forged_token_is_unauthenticated(stub: pb_grpc.ExportServiceAsyncStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListExports(pb.ListExportsRequest(), metadata=bearer("not.a.jwt"), timeout=5)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_trader_may_not_export(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(EXTRACT, metadata=bearer(token_for("tom", "trader")), timeout=5)
    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert fake_audit.authorizations == []


async def test_a_compliance_officer_exports_and_reads_the_export_back(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    fake_audit: FakeAudit,
    exporter: Exporter,
) -> None:
    auth = bearer(token_for("carol", "compliance"))
    created = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)
    viewer = bearer(token_for("vic", "viewer"))
    fetched = await stub.GetExport(pb.GetExportRequest(id=created.id), metadata=viewer, timeout=5)

    data = (exporter.export_dir / created.directory / created.file_name).read_bytes()
    assert created.state == pb.EXPORT_STATE_SIGNED
    assert created.directory == created.id
    assert [f.name for f in created.files] == ["records.jsonl"]
    assert created.manifest_sha256 != ""
    assert created.key_id != ""
    assert (created.record_count, created.size_bytes) == (5, len(data))
    assert created.sha256 == hashlib.sha256(data).hexdigest()
    assert created.requested_by == "carol"
    assert fetched == created
    assert fake_audit.authorizations == [auth[0][1]]


async def test_a_failed_export_is_returned_with_its_reason(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    fake_audit.fail_after = 1
    auth = bearer(token_for("carol", "compliance"))
    failed = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)

    assert failed.state == pb.EXPORT_STATE_FAILED
    assert "audit service" in failed.failure_reason


async def test_an_invalid_range_is_an_invalid_argument(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str]
) -> None:
    request = pb.CreateExportRequest(kind="audit_extract", from_seq=9, to_seq=3)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(
            request, metadata=bearer(token_for("carol", "compliance")), timeout=5
        )
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_an_export_shows_the_checkpoint_it_was_cut_at(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    fake_audit: FakeAudit,
    exporter: Exporter,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(4)
    auth = bearer(token_for("carol", "compliance"))
    created = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)

    assert (created.to_seq, created.record_count) == (3, 4)
    assert (created.checkpoint_size, created.checkpoint_root) == (4, ROOT)
    note = exporter.export_dir / created.directory / created.checkpoint_file
    assert note.read_bytes() == NOTE.encode("utf-8")


async def test_a_range_past_the_checkpoint_is_an_invalid_argument(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    fake_audit.checkpoint = signed_checkpoint(4)
    request = pb.CreateExportRequest(kind="audit_extract", from_seq=0, to_seq=4)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(
            request, metadata=bearer(token_for("carol", "compliance")), timeout=5
        )
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "latest signed checkpoint (size 4)" in (error.value.details() or "")


@pytest.mark.parametrize(
    ("export_id", "code"),
    [
        ("7d1f6a52-2a2b-4f7e-9a55-0c1f3e0f9d11", grpc.StatusCode.NOT_FOUND),
        ("not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_an_unknown_export_is_not_found_and_a_malformed_id_is_invalid(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    export_id: str,
    code: grpc.StatusCode,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetExport(
            pb.GetExportRequest(id=export_id),
            metadata=bearer(token_for("carol", "compliance")),
            timeout=5,
        )
    assert error.value.code() is code


async def test_exports_are_listed_newest_first(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    auth = bearer(token_for("carol", "admin"))
    ids = [(await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)).id for _ in range(3)]
    listed = await stub.ListExports(pb.ListExportsRequest(limit=2), metadata=auth, timeout=5)

    assert [e.id for e in listed.exports] == ids[::-1][:2]


async def test_exports_page_and_filter_by_state_and_kind(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    auth = bearer(token_for("carol", "admin"))
    ids = [(await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)).id for _ in range(3)]
    report = pb.CreateExportRequest(kind="actions_report", format="csv")
    report_id = (await stub.CreateExport(report, metadata=auth, timeout=5)).id

    first = await stub.ListExports(
        pb.ListExportsRequest(kind="audit_extract", page=common_pb2.PageRequest(page_size=2)),
        metadata=auth,
        timeout=5,
    )
    second = await stub.ListExports(
        pb.ListExportsRequest(
            kind="audit_extract",
            page=common_pb2.PageRequest(page_size=2, page_token=first.next_page_token),
        ),
        metadata=auth,
        timeout=5,
    )
    signed = await stub.ListExports(
        pb.ListExportsRequest(state=pb.EXPORT_STATE_SIGNED), metadata=auth, timeout=5
    )

    assert [e.id for e in first.exports] + [e.id for e in second.exports][:1] == ids[::-1]
    assert report_id in {e.id for e in signed.exports}


async def test_a_repeated_client_key_returns_the_first_export(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    auth = bearer(token_for("carol", "compliance"))
    request = pb.CreateExportRequest(kind="audit_extract", to_seq=-1, client_key="daily-1")
    first = await stub.CreateExport(request, metadata=auth, timeout=5)
    again = await stub.CreateExport(
        pb.CreateExportRequest(kind="actions_report", client_key="daily-1"),
        metadata=auth,
        timeout=5,
    )
    other = await stub.CreateExport(
        request, metadata=bearer(token_for("dora", "compliance")), timeout=5
    )

    assert again == first
    assert other.id != first.id
    assert len(fake_audit.authorizations) == 2


async def test_without_a_compliance_reader_compliance_checks_are_a_failed_precondition(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(
            pb.CreateExportRequest(kind="compliance_checks"),
            metadata=bearer(token_for("carol", "compliance")),
            timeout=5,
        )
    assert error.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "not available" in (error.value.details() or "")


async def test_an_unknown_destination_is_an_invalid_argument(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(
            pb.CreateExportRequest(kind="actions_report", destination="nowhere"),
            metadata=bearer(token_for("carol", "compliance")),
            timeout=5,
        )
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_public_keys_are_served_to_viewers_and_match_the_shipped_key(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    fake_audit: FakeAudit,
    exporter: Exporter,
    signer: Signer,
) -> None:
    created = await stub.CreateExport(
        EXTRACT, metadata=bearer(token_for("carol", "compliance")), timeout=5
    )
    keys = await stub.ListPublicKeys(
        pb.ListPublicKeysRequest(), metadata=bearer(token_for("vic", "viewer")), timeout=5
    )

    current = next(k for k in keys.keys if k.key_id == created.key_id)
    shipped = (exporter.export_dir / created.directory / "key.pub.pem").read_text()
    assert current.pem == shipped == signer.public_pem.decode()
    assert not current.HasField("retired_at")


@pytest.mark.parametrize(
    ("method", "request_message"),
    [
        ("RedeliverExport", pb.RedeliverExportRequest(id=str(uuid.uuid4()))),
        ("PutSchedule", pb.PutScheduleRequest()),
        ("DeleteSchedule", pb.DeleteScheduleRequest(id=str(uuid.uuid4()))),
        ("VerifyExport", pb.VerifyExportRequest(id=str(uuid.uuid4()))),
    ],
)
async def test_a_viewer_may_not_redeliver_schedule_or_verify(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    method: str,
    request_message: Any,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await getattr(stub, method)(
            request_message, metadata=bearer(token_for("vic", "viewer")), timeout=5
        )
    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_viewer_sees_attempts_and_schedules(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    created = await stub.CreateExport(
        EXTRACT, metadata=bearer(token_for("carol", "compliance")), timeout=5
    )
    viewer = bearer(token_for("vic", "viewer"))
    attempts = await stub.ListAttempts(
        pb.ListAttemptsRequest(id=created.id), metadata=viewer, timeout=5
    )
    listed = await stub.ListSchedules(pb.ListSchedulesRequest(), metadata=viewer, timeout=5)

    assert list(attempts.attempts) == []
    assert isinstance(listed, pb.ListSchedulesResponse)


async def test_a_local_export_verifies_through_the_service(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str], fake_audit: FakeAudit
) -> None:
    auth = bearer(token_for("carol", "compliance"))
    created = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)
    verdict = await stub.VerifyExport(
        pb.VerifyExportRequest(id=created.id), metadata=auth, timeout=5
    )

    assert (verdict.export_id, verdict.ok, list(verdict.problems)) == (created.id, True, [])


async def test_the_caller_finds_their_own_export_by_its_client_key(
    stub: pb_grpc.ExportServiceAsyncStub, token_for: Callable[..., str]
) -> None:
    carol, dave = bearer(token_for("carol", "compliance")), bearer(token_for("dave", "compliance"))

    async def create(auth: Any, key: str) -> str:
        request = pb.CreateExportRequest(kind="actions_report", client_key=key)
        return (await stub.CreateExport(request, metadata=auth, timeout=5)).id

    carols = await create(carol, "nightly-7")
    daves = await create(dave, "nightly-7")
    await create(carol, "nightly-8")

    async def listed(auth: Any, key: str) -> list[str]:
        request = pb.ListExportsRequest(client_key=key)
        return [e.id for e in (await stub.ListExports(request, metadata=auth, timeout=5)).exports]

    assert await listed(carol, "nightly-7") == [carols]
    assert await listed(dave, "nightly-7") == [daves]
    assert await listed(bearer(token_for("erin", "viewer")), "nightly-7") == []
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await listed(carol, "k" * 201)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_service_exports_for_the_person_it_names(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    fake_audit: FakeAudit,
    exporter: Exporter,
) -> None:
    """The agent's triggers export for the admin who wrote the rule (issue 16 item 3): the
    export is theirs, its client_key is theirs, and the peers are still read as the service."""
    trigger = bearer(token_for("trigger:evidence@v2", "service"))
    request = pb.CreateExportRequest(
        kind="audit_extract", to_seq=-1, client_key="firing-1", requested_by="ada"
    )
    created = await stub.CreateExport(request, metadata=trigger, timeout=5)
    again = await stub.CreateExport(request, metadata=trigger, timeout=5)

    assert (created.requested_by, again.id) == ("ada", created.id)
    assert len(fake_audit.authorizations) == 1
    [requested, *_] = await events_for(exporter.db, created.id)
    assert requested["action"] == "export.requested"
    assert requested["actor"]["subject"] == "trigger:evidence@v2"
    assert json.loads(requested["payload_json"])["requested_by"] == "ada"


async def test_a_person_cannot_export_for_someone_else(
    stub: pb_grpc.ExportServiceAsyncStub,
    token_for: Callable[..., str],
    fake_audit: FakeAudit,
    exporter: Exporter,
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    framed = pb.CreateExportRequest(kind="audit_extract", to_seq=-1, requested_by="dora")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateExport(framed, metadata=carol, timeout=5)

    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "only the agent" in str(error.value.details())
    listed = await stub.ListExports(pb.ListExportsRequest(), metadata=carol, timeout=5)
    assert list(listed.exports) == []
    assert fake_audit.authorizations == []
    own = pb.CreateExportRequest(kind="audit_extract", to_seq=-1, requested_by="carol")
    assert (await stub.CreateExport(own, metadata=carol, timeout=5)).requested_by == "carol"
