from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from runtime.auth import TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.export.audit_reader import GrpcAuditReader
from services.export.grpc_api import ExportServicer, spec
from tests.export.conftest import NOTE, ROOT, FakeAudit, signed_checkpoint
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

EXTRACT = pb.CreateExportRequest(kind="audit_extract", from_seq=0, to_seq=-1)


@pytest.fixture
async def stub(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    auth_settings: AuthSettings,
    tmp_path: Path,
) -> AsyncIterator[pb_grpc.ExportServiceAsyncStub]:
    running = await start(
        spec(ExportServicer(export_db, audit_reader, tmp_path)),
        "127.0.0.1:0",
        TokenVerifier(auth_settings),
    )
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
    tmp_path: Path,
) -> None:
    auth = bearer(token_for("carol", "compliance"))
    created = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)
    fetched = await stub.GetExport(pb.GetExportRequest(id=created.id), metadata=auth, timeout=5)

    data = (tmp_path / created.file_name).read_bytes()
    assert created.state == pb.EXPORT_STATE_GENERATED
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
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(4)
    auth = bearer(token_for("carol", "compliance"))
    created = await stub.CreateExport(EXTRACT, metadata=auth, timeout=5)

    assert (created.to_seq, created.record_count) == (3, 4)
    assert (created.checkpoint_size, created.checkpoint_root) == (4, ROOT)
    assert (tmp_path / created.checkpoint_file).read_bytes() == NOTE.encode("utf-8")


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
