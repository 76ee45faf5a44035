from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied
from services.export.clients.audit import GrpcAuditReader
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import Signer
from services.export.service.exports import Exporter, create_export
from services.export.service.queries import get_export
from services.export.tables import exports, outbox
from tests.export.conftest import (
    NOTE,
    ROOT,
    FakeAudit,
    FakeReports,
    audit_record,
    signed_checkpoint,
)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SEALING = ["SHA256SUMS", "key.pub.pem", "manifest.json", "manifest.json.sig"]


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


SIGNER = Signer(Ed25519PrivateKey.generate())


async def export_range(
    db: Database, reader: GrpcAuditReader, caller: Principal, directory: Path, **span: Any
) -> Any:
    exporter = Exporter(db, reader, FakeReports(), SIGNER, directory)
    request = ExportRequest(**{"kind": "audit_extract", **span})
    return await create_export(exporter, request, caller)


def files_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


async def events_for(db: Database, export_id: str) -> list[dict[str, Any]]:
    query = (
        select(outbox.c.event)
        .where(outbox.c.event["target"].astext == f"export/{export_id}")
        .order_by(outbox.c.id)
    )
    async with db.transaction() as session:
        return [row.event for row in (await session.execute(query)).all()]


async def export_rows(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(exports))).scalar_one())


async def test_an_extract_holds_the_requested_records_as_json_lines_with_a_true_digest(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=1, to_seq=3)

    data = (tmp_path / export.id / export.file_name).read_bytes()
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert export.state is ExportState.SIGNED
    assert [int(line["seq"]) for line in lines] == [1, 2, 3]
    assert lines[0]["event"]["payload_json"] == '{"note":"Zürich desk"}'
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    assert (export.size_bytes, export.record_count) == (len(data), 3)
    assert files_in(tmp_path) == [export.id]
    assert await get_export(export_db, export.id) == export


async def test_the_audit_service_sees_the_exporting_person_not_the_export_service(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert fake_audit.authorizations == [f"Bearer {carol.token}"]


async def test_an_open_ended_export_runs_to_the_end_of_the_log_and_keeps_seq_zero(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    lines = (tmp_path / export.id / export.file_name).read_text("utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == ["0", "1", "2", "3", "4"]
    assert export.record_count == 5


async def test_a_range_past_the_end_of_the_log_gives_an_empty_file(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=50, to_seq=60)

    assert export.state is ExportState.SIGNED
    assert (tmp_path / export.id / export.file_name).read_bytes() == b""
    assert (export.sha256, export.size_bytes, export.record_count) == (EMPTY_SHA256, 0, 0)


async def test_the_export_directory_is_created_when_missing(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "exports" / "audit"
    export = await export_range(export_db, audit_reader, carol, directory, from_seq=0, to_seq=0)

    assert (directory / export.id / export.file_name).is_file()
    assert directory.stat().st_mode & 0o777 == 0o750


async def test_requested_and_generated_events_reach_the_outbox(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=2)

    events = await events_for(export_db, export.id)
    assert [e["action"] for e in events] == ["export.requested", "export.signed"]
    assert {e["actor"]["subject"] for e in events} == {"carol"}
    assert json.loads(events[1]["payload_json"])["sha256"] == export.sha256


async def test_when_the_audit_service_is_down_the_export_fails_and_leaves_no_file(
    export_db: Database,
    reader_for: Callable[[int], GrpcAuditReader],
    closed_port: int,
    carol: Principal,
    tmp_path: Path,
) -> None:
    reader = reader_for(closed_port)
    export = await export_range(export_db, reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert export.state is ExportState.FAILED
    assert "audit service" in export.failure_reason
    assert files_in(tmp_path) == []
    assert (await get_export(export_db, export.id)).state is ExportState.FAILED
    actions = [e["action"] for e in await events_for(export_db, export.id)]
    assert actions == ["export.requested", "export.failed"]


async def test_a_stream_broken_midway_leaves_no_partial_file(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.fail_after = 2
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert export.state is ExportState.FAILED
    assert "disk on fire" in export.failure_reason
    assert files_in(tmp_path) == []


async def test_an_export_cancelled_midway_is_failed_and_leaves_no_file(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.stall_after = 2
    task = asyncio.create_task(
        export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)
    )
    await asyncio.wait_for(fake_audit.stalled.wait(), 5)
    assert files_in(tmp_path) != []  # the partial file the cancellation must remove
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert files_in(tmp_path) == []
    async with export_db.transaction() as session:
        # Only this test's export: other tests (end to end) commit exports of their own.
        query = select(exports).where(exports.c.requested_by == carol.subject)
        row = (await session.execute(query.order_by(exports.c.created_at.desc()))).first()
    assert row is not None
    assert (row.state, row.failure_reason) == ("failed", "cancelled by the caller")


async def test_a_gap_in_the_streamed_log_fails_the_export(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.records = [audit_record(0), audit_record(1), audit_record(3)]
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert export.state is ExportState.FAILED
    assert "seq 3 where 2 was expected" in export.failure_reason
    assert files_in(tmp_path) == []


async def test_a_caller_the_audit_service_refuses_is_told_so_and_the_export_is_failed(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.refuse = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(PermissionDenied, match="audit service"):
        await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    async with export_db.transaction() as session:
        states = (await session.execute(select(exports.c.state))).scalars().all()
    assert states == ["failed"]
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("kind", "from_seq", "to_seq"),
    [("audit_extract", -1, 5), ("audit_extract", 5, 4), ("audit_extract", 0, -2), ("csv", 0, 1)],
)
async def test_an_invalid_request_is_refused_before_anything_is_written(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
    kind: str,
    from_seq: int,
    to_seq: int,
) -> None:
    before = await export_rows(export_db)
    with pytest.raises(InvalidArgument):
        await export_range(
            export_db, audit_reader, carol, tmp_path, kind=kind, from_seq=from_seq, to_seq=to_seq
        )

    assert await export_rows(export_db) == before
    assert fake_audit.authorizations == []
    assert files_in(tmp_path) == []


async def test_an_open_ended_extract_stops_at_the_signed_checkpoint_and_carries_its_note(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(3)
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    lines = (tmp_path / export.id / export.file_name).read_text("utf-8").splitlines()
    assert export.state is ExportState.SIGNED
    assert [json.loads(line)["seq"] for line in lines] == ["0", "1", "2"]
    assert (export.to_seq, export.record_count) == (2, 3)
    assert (export.checkpoint_size, export.checkpoint_root) == (3, ROOT)
    assert export.checkpoint_file == "checkpoint.txt"
    assert (tmp_path / export.id / export.checkpoint_file).read_bytes() == NOTE.encode("utf-8")
    assert (tmp_path / export.id / export.checkpoint_file).stat().st_mode & 0o777 == 0o640
    assert files_in(tmp_path / export.id) == sorted(
        [export.file_name, "checkpoint.txt", "proofs.json", *SEALING]
    )
    assert fake_audit.proofs_asked == [(0, 3), (2, 3)]
    assert fake_audit.checkpoint_authorizations == [f"Bearer {carol.token}"]
    assert await get_export(export_db, export.id) == export


async def test_an_explicit_range_inside_the_checkpoint_is_kept(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=1, to_seq=4)

    assert (export.to_seq, export.record_count, export.checkpoint_size) == (4, 4, 5)


@pytest.mark.parametrize(("from_seq", "to_seq"), [(0, 3), (2, 9), (3, -1)])
async def test_records_beyond_the_checkpoint_are_refused_and_nothing_is_written(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
    from_seq: int,
    to_seq: int,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(3)
    before = await export_rows(export_db)
    with pytest.raises(InvalidArgument, match=r"checkpoint \(size 3\).*to_seq <= 2"):
        await export_range(
            export_db, audit_reader, carol, tmp_path, from_seq=from_seq, to_seq=to_seq
        )

    assert await export_rows(export_db) == before
    assert fake_audit.authorizations == []  # nothing was streamed
    assert files_in(tmp_path) == []


async def test_without_a_checkpoint_the_extract_runs_to_the_end_and_records_size_zero(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert (export.state, export.to_seq, export.record_count) == (ExportState.SIGNED, -1, 5)
    assert (export.checkpoint_size, export.checkpoint_root, export.checkpoint_file) == (0, "", "")
    assert files_in(tmp_path / export.id) == sorted([export.file_name, *SEALING])
    assert fake_audit.checkpoint_authorizations == [f"Bearer {carol.token}"]
    generated = json.loads((await events_for(export_db, export.id))[1]["payload_json"])
    assert (generated["checkpoint_size"], generated["checkpoint_root"]) == (0, "")


async def test_the_generated_event_names_the_checkpoint(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(4)
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    events = await events_for(export_db, export.id)
    assert json.loads(events[0]["payload_json"])["parameters"]["to_seq"] == 3
    generated = json.loads(events[1]["payload_json"])
    assert (generated["checkpoint_size"], generated["checkpoint_root"]) == (4, ROOT)


async def test_a_failed_stream_removes_the_extract_and_the_checkpoint_note(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint, fake_audit.fail_after = signed_checkpoint(5), 2
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert export.state is ExportState.FAILED
    assert files_in(tmp_path) == []


async def test_a_cancelled_export_removes_the_checkpoint_note_too(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint, fake_audit.stall_after = signed_checkpoint(5), 2
    task = asyncio.create_task(
        export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)
    )
    await asyncio.wait_for(fake_audit.stalled.wait(), 5)
    assert files_in(tmp_path) != []  # the staging directory the cancellation must remove
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert files_in(tmp_path) == []


async def test_a_stream_shorter_than_the_checkpoint_fails_the_export(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    fake_audit.records = [audit_record(seq) for seq in range(3)]
    export = await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    assert export.state is ExportState.FAILED
    assert "3 records where 5 exist" in export.failure_reason
    assert files_in(tmp_path) == []


async def test_a_caller_refused_the_checkpoint_is_told_so_and_the_export_is_failed(
    export_db: Database,
    audit_reader: GrpcAuditReader,
    fake_audit: FakeAudit,
    carol: Principal,
    tmp_path: Path,
) -> None:
    fake_audit.refuse_checkpoint = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(PermissionDenied, match="audit service"):
        await export_range(export_db, audit_reader, carol, tmp_path, from_seq=0, to_seq=-1)

    async with export_db.transaction() as session:
        states = (await session.execute(select(exports.c.state))).scalars().all()
    assert states == ["failed"]
    assert fake_audit.authorizations == []
    assert files_in(tmp_path) == []
