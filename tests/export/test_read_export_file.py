"""ReadExportFile on a real export service (in-process, on the session's PostgreSQL): every file
of an audit extract and of an evidence pack arrives as its manifest lists it, in chunks no
message limit can refuse; an outside auditor verifies the downloaded files with openssl and
sha256sum and the published key; every refusal has its status; each read is audited."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import Principal
from runtime.clients import bearer, open_channel
from runtime.errors import DataLoss
from runtime.grpc_server import MAX_MESSAGE_BYTES, start
from runtime.settings import AuthSettings
from services.export.clients.store import ExportStore
from services.export.clients.store.s3 import S3Store
from services.export.domain.exports import Checkpoint
from services.export.domain.requests import ExportRequest, new_export
from services.export.domain.signing import PinnedKeys, Signer
from services.export.grpc_api.servicer import ExportServicer, spec
from services.export.repository import exports as repository
from services.export.service import reading
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.exports import Exporter
from services.export.service.reading import READ
from tests.export.conftest import NOTE, ROOT, FakeAudit, signed_checkpoint
from tests.export.s3 import MotoS3, moto_s3, s3_credentials, s3_store
from tests.export.test_create_export import events_for
from tests.export.test_delivery_support import PINNED, SIGNER, signed_export
from tests.export.test_signed_export import OPENSSL
from tests.keys import verifier_for
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

__all__ = ["moto_s3", "s3_credentials", "s3_store"]
if TYPE_CHECKING:
    Stub = pb_grpc.ExportServiceAsyncStub
Metadata = tuple[tuple[str, str], ...]
T = TypeVar("T")
EXTRACT = pb.CreateExportRequest(kind="audit_extract", from_seq=0, to_seq=-1)
CHUNK = 64 * 1024
SIGNED_FILES = ("manifest.json", "manifest.json.sig")


class FakeEvidence:
    """One action's history, as the ops, agent and audit services would give it."""

    async def action(self, action_id: str, caller: Principal) -> dict[str, Any]:
        return {"id": action_id, "incident_id": "i1", "decision_id": "d1", "votes": []}

    async def timeline(self, action_id: str, caller: Principal) -> list[dict[str, Any]]:
        return [{"kind": "proposed", "by": "agent"}, {"kind": "vote", "by": "bob"}]

    async def incident(self, incident_id: str, caller: Principal) -> dict[str, Any]:
        return {"id": incident_id, "kind": "stale_price", "desk": "Zürich rates"}

    async def decisions(
        self, incident_id: str, own_decision: str, caller: Principal
    ) -> list[dict[str, Any]]:
        return [{"id": own_decision, "incident_id": incident_id}]

    async def covering_checkpoint(self, caller: Principal) -> Checkpoint | None:
        return Checkpoint(3, ROOT, NOTE)

    async def audit_records(
        self, targets: list[str], checkpoint: Checkpoint, caller: Principal
    ) -> list[dict[str, Any]]:
        return [{"record": {"seq": 2, "target": targets[0]}, "inclusion_proof": {"proof": []}}]


@asynccontextmanager
async def served(
    exporter: Exporter, auth: AuthSettings, store: ExportStore | None = None, keys: Any = None
) -> AsyncIterator[Stub]:
    pinned = keys or PinnedKeys.of(exporter.signer, datetime.now(UTC), [])
    config = DeliveryConfig({}, exporter.export_dir, keys=pinned, store=store)
    service = spec(ExportServicer(replace(exporter, store=store, evidence=FakeEvidence()), config))
    running = await start(service, "127.0.0.1:0", verifier_for(service, auth))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb_grpc.ExportServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)


@pytest.fixture
async def stub(exporter: Exporter, auth_settings: AuthSettings) -> AsyncIterator[Stub]:
    async with served(exporter, auth_settings) as running:
        yield running


@pytest.fixture
def carol(token_for: Callable[..., str]) -> Metadata:
    return bearer(token_for("carol", "compliance"))


async def chunks_of(stub: Stub, auth: Metadata, export_id: str, name: str) -> list[pb.FileChunk]:
    request = pb.ReadExportFileRequest(id=export_id, name=name)
    return [chunk async for chunk in stub.ReadExportFile(request, metadata=auth, timeout=20)]


async def download(stub: Stub, auth: Metadata, export: pb.Export, folder: Path) -> Path:
    """Every file of the export, as an auditor saves them, into `folder`/<id>."""
    target = folder / export.id
    target.mkdir(parents=True)
    for name in [*(f.name for f in export.files), *SIGNED_FILES]:
        chunks = await chunks_of(stub, auth, export.id, name)
        assert [c.offset for c in chunks] == offsets(chunks), name
        (target / name).write_bytes(b"".join(c.data for c in chunks))
    return target


async def collect(stream: AsyncIterable[T], into: list[T]) -> None:
    """Appends what `stream` yields to `into` until it ends or raises."""
    async for item in stream:
        into.append(item)


def offsets(chunks: list[pb.FileChunk]) -> list[int]:
    found, at = [], 0
    for chunk in chunks:
        found.append(at)
        at += len(chunk.data)
    return found


async def published_key(stub: Stub, auth: Metadata, key_id: str, folder: Path) -> Path:
    keys = await stub.ListPublicKeys(pb.ListPublicKeysRequest(), metadata=auth, timeout=5)
    path = folder / "published-key.pem"
    path.write_text(next(k.pem for k in keys.keys if k.key_id == key_id))
    return path


def audited_as_an_auditor_would(directory: Path, key: Path) -> None:
    """openssl checks the signature over the downloaded manifest; sha256sum checks each file
    against the hashes that signed manifest lists."""
    command = OPENSSL.replace("KEY", str(key)).split()
    signature = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert "Signature Verified Successfully" in signature.stdout
    listed = json.loads((directory / "manifest.json").read_bytes())["files"]
    sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in listed)
    checked = subprocess.run(
        ["sha256sum", "-c", "-"], cwd=directory, input=sums, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(listed)


def assert_as_listed(directory: Path, export: pb.Export) -> None:
    manifest = (directory / "manifest.json").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == export.manifest_sha256
    listed = json.loads(manifest)["files"]
    assert [f["name"] for f in listed] == [f.name for f in export.files]
    for file in listed:
        data = (directory / file["name"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (
            file["size_bytes"],
            file["sha256"],
        ), file["name"]


async def test_every_file_of_an_audit_extract_arrives_as_listed_and_verifies_with_openssl(
    stub: Stub, carol: Metadata, fake_audit: FakeAudit, tmp_path: Path
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)

    directory = await download(stub, carol, export, tmp_path / "auditor")

    assert [f.name for f in export.files] == ["records.jsonl", "checkpoint.txt", "proofs.json"]
    assert_as_listed(directory, export)
    assert (directory / "checkpoint.txt").read_bytes() == NOTE.encode("utf-8")
    key = await published_key(stub, carol, export.key_id, tmp_path)
    audited_as_an_auditor_would(directory, key)


async def test_every_file_of_an_evidence_pack_arrives_as_listed_and_verifies_with_openssl(
    stub: Stub, carol: Metadata, tmp_path: Path
) -> None:
    request = pb.CreateExportRequest(kind="evidence_pack")
    request.parameters.update({"action_id": "a1"})
    export = await stub.CreateExport(request, metadata=carol, timeout=10)
    assert export.state == pb.EXPORT_STATE_SIGNED, export.failure_reason

    directory = await download(stub, carol, export, tmp_path / "auditor")

    assert len(export.files) == 6
    assert_as_listed(directory, export)
    incident = json.loads((directory / "incident.jsonl").read_text("utf-8"))
    assert incident["desk"] == "Zürich rates"
    key = await published_key(stub, carol, export.key_id, tmp_path)
    audited_as_an_auditor_would(directory, key)


async def test_a_small_file_and_the_manifest_come_in_one_chunk_with_their_size_and_hash(
    stub: Stub, carol: Metadata
) -> None:
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)

    chunks = await chunks_of(stub, carol, export.id, "records.jsonl")
    manifest = await chunks_of(stub, carol, export.id, "manifest.json")

    assert len(chunks) == 1
    assert (chunks[0].size_bytes, chunks[0].sha256) == (export.size_bytes, export.sha256)
    assert (manifest[0].sha256, len(manifest)) == (export.manifest_sha256, 1)
    assert manifest[0].size_bytes == len(manifest[0].data)


async def test_a_file_larger_than_grpcs_message_limit_arrives_whole_in_64_kib_chunks(
    exporter: Exporter, auth_settings: AuthSettings, carol: Metadata, principal_for: Any
) -> None:
    data = b"".join(b'{"id":%d,"desk":"Z\xc3\xbcrich rates"}\n' % n for n in range(200_000))
    assert len(data) > MAX_MESSAGE_BYTES + CHUNK
    made = await signed_export(exporter.db, exporter.export_dir, principal_for("carol"), data=data)

    async with served(exporter, auth_settings, keys=PINNED) as stub:
        chunks = await chunks_of(stub, carol, made.id, "actions.jsonl")

    assert b"".join(c.data for c in chunks) == data
    assert len(chunks) == -(-len(data) // CHUNK)
    assert max(len(c.data) for c in chunks) == CHUNK
    assert [c.offset for c in chunks] == offsets(chunks)
    assert (chunks[0].size_bytes, chunks[0].sha256) == (len(data), made.sha256)
    assert all((c.size_bytes, c.sha256) == (0, "") for c in chunks[1:])


async def test_an_empty_file_is_one_empty_chunk_with_its_size_and_hash(
    stub: Stub, carol: Metadata, fake_audit: FakeAudit
) -> None:
    fake_audit.records = []
    export = await stub.CreateExport(
        pb.CreateExportRequest(kind="audit_extract", from_seq=0, to_seq=-1), metadata=carol
    )

    chunks = await chunks_of(stub, carol, export.id, "records.jsonl")

    assert [(c.data, c.size_bytes, c.sha256) for c in chunks] == [
        (b"", 0, hashlib.sha256(b"").hexdigest())
    ]


async def refusal(stub: Stub, auth: Metadata, export_id: str, name: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await chunks_of(stub, auth, export_id, name)
    return refused.value


@pytest.mark.parametrize(
    "name", ["key.pub.pem", "SHA256SUMS", "../../../etc/passwd", "/etc/passwd", "", "records"]
)
async def test_a_name_the_export_did_not_record_is_not_found_and_never_reaches_the_disk(
    stub: Stub, carol: Metadata, name: str
) -> None:
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)

    refused = await refusal(stub, carol, export.id, name)

    assert refused.code() is grpc.StatusCode.NOT_FOUND
    assert "records.jsonl, manifest.json, manifest.json.sig" in (refused.details() or "")


async def test_an_unknown_export_is_not_found_and_a_malformed_id_invalid(
    stub: Stub, carol: Metadata
) -> None:
    unknown = await refusal(stub, carol, "7d1f6a52-2a2b-4f7e-9a55-0c1f3e0f9d11", "manifest.json")
    malformed = await refusal(stub, carol, "../exports", "manifest.json")

    assert unknown.code() is grpc.StatusCode.NOT_FOUND
    assert malformed.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_an_export_not_finished_or_failed_is_a_failed_precondition(
    stub: Stub, carol: Metadata, exporter: Exporter
) -> None:
    requested = new_export(ExportRequest(kind="audit_extract"), "carol")
    signed = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)
    async with exporter.db.transaction() as session:
        await repository.add(session, requested)
        stored = await repository.get(session, signed.id)
        assert stored is not None
        await repository.save(session, stored.failed("verification failed: records.jsonl"))

    waiting = await refusal(stub, carol, requested.id, "records.jsonl")
    failed = await refusal(stub, carol, signed.id, "records.jsonl")

    assert waiting.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "is requested" in (waiting.details() or "")
    assert failed.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "is failed" in (failed.details() or "")


async def test_reading_an_exports_contents_needs_compliance_or_admin(
    stub: Stub, carol: Metadata, token_for: Callable[..., str]
) -> None:
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)

    for subject, role in [
        ("vic", "viewer"),
        ("tom", "trader"),
        ("olga", "ops"),
        ("svc:agent", "service"),
    ]:
        refused = await refusal(stub, bearer(token_for(subject, role)), export.id, "records.jsonl")
        assert refused.code() is grpc.StatusCode.PERMISSION_DENIED, role
    anonymous = await refusal(stub, (), export.id, "records.jsonl")
    assert anonymous.code() is grpc.StatusCode.UNAUTHENTICATED
    admin = await chunks_of(stub, bearer(token_for("ada", "admin")), export.id, "records.jsonl")
    assert admin[0].sha256 == export.sha256


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["records.jsonl", "checkpoint.txt", *SIGNED_FILES])
async def test_a_stored_file_that_no_longer_matches_is_data_loss_and_nothing_of_it_is_sent(
    stub: Stub, carol: Metadata, fake_audit: FakeAudit, exporter: Exporter, name: str
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)
    flip_a_byte(exporter.export_dir / export.id / name)

    request = pb.ReadExportFileRequest(id=export.id, name=name)
    call = stub.ReadExportFile(request, metadata=carol, timeout=10)
    received: list[pb.FileChunk] = []
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await collect(call, received)

    assert refused.value.code() is grpc.StatusCode.DATA_LOSS
    assert (refused.value.details() or "").startswith(f"{name}: ")
    assert received == []
    [read] = [e for e in await events_for(exporter.db, export.id) if e["action"] == READ]
    assert (read["outcome"], read["actor"]["subject"]) == ("failure", "carol")
    assert json.loads(read["payload_json"])["problem"] == refused.value.details()


async def test_a_missing_file_is_data_loss(stub: Stub, carol: Metadata, exporter: Exporter) -> None:
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)
    (exporter.export_dir / export.id / "records.jsonl").unlink()

    refused = await refusal(stub, carol, export.id, "records.jsonl")

    assert refused.code() is grpc.StatusCode.DATA_LOSS
    assert "missing" in (refused.details() or "")


async def test_a_signature_by_a_key_no_longer_pinned_cannot_be_checked_so_is_not_served(
    exporter: Exporter, auth_settings: AuthSettings, carol: Metadata, fake_audit: FakeAudit
) -> None:
    other = PinnedKeys.of(Signer(Ed25519PrivateKey.generate()), datetime.now(UTC), [])
    async with served(exporter, auth_settings, keys=other) as stub:
        export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)
        refused = await refusal(stub, carol, export.id, "manifest.json.sig")
        manifest = await chunks_of(stub, carol, export.id, "manifest.json")

    assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "no longer pinned" in (refused.details() or "")
    assert manifest[0].sha256 == export.manifest_sha256


async def test_each_read_is_audited_with_the_reader_the_file_and_its_hash(
    stub: Stub, carol: Metadata, exporter: Exporter, token_for: Callable[..., str]
) -> None:
    export = await stub.CreateExport(EXTRACT, metadata=carol, timeout=10)
    ada = bearer(token_for("ada", "admin"))

    await chunks_of(stub, carol, export.id, "records.jsonl")
    await chunks_of(stub, ada, export.id, "manifest.json")

    reads = [e for e in await events_for(exporter.db, export.id) if e["action"] == READ]
    assert [(e["actor"]["subject"], e["outcome"], e["source"]) for e in reads] == [
        ("carol", "success", "export"),
        ("ada", "success", "export"),
    ]
    assert [json.loads(e["payload_json"]) for e in reads] == [
        {"file": "records.jsonl", "sha256": export.sha256, "size_bytes": export.size_bytes},
        {
            "file": "manifest.json",
            "sha256": export.manifest_sha256,
            "size_bytes": (exporter.export_dir / export.id / "manifest.json").stat().st_size,
        },
    ]


async def test_a_file_changed_after_its_check_is_cut_short_before_its_end(
    exporter: Exporter, principal_for: Callable[..., Principal]
) -> None:
    carol = principal_for("carol", "compliance")
    data = b"x" * (3 * CHUNK + 10)
    made = await signed_export(exporter.db, exporter.export_dir, carol, data=data)
    config = DeliveryConfig({}, exporter.export_dir, keys=PINNED)

    received: list[bytes] = []
    async with reading.checked_file(exporter.db, config, made.id, "actions.jsonl", carol) as file:
        flip_a_byte(file.path)
        with pytest.raises(DataLoss, match="changed while it was read"):
            await collect(reading.chunks(exporter.db, carol, file), received)

    assert len(received) == 3  # the last chunk is held back: never the whole file
    reads = [e for e in await events_for(exporter.db, made.id) if e["action"] == READ]
    assert [e["outcome"] for e in reads] == ["success", "failure"]


async def test_an_export_kept_in_s3_is_read_from_the_version_recorded_at_sealing(
    exporter: Exporter,
    auth_settings: AuthSettings,
    carol: Metadata,
    principal_for: Callable[..., Principal],
    s3_store: S3Store,
    moto_s3: MotoS3,
    tmp_path: Path,
) -> None:
    made = await signed_export(
        exporter.db, exporter.export_dir, principal_for("carol"), store=s3_store
    )
    # Whoever holds the service's credentials can add a version over a locked object.
    key = f"{s3_store.settings.prefix}{made.id}/actions.jsonl"
    moto_s3.client().put_object(Bucket=s3_store.settings.bucket, Key=key, Body=b"forged\n")

    async with served(exporter, auth_settings, store=s3_store, keys=PINNED) as stub:
        export = await stub.GetExport(pb.GetExportRequest(id=made.id), metadata=carol)
        directory = await download(stub, carol, export, tmp_path / "auditor")

    assert_as_listed(directory, export)
    key_file = tmp_path / "published-key.pem"
    key_file.write_bytes(SIGNER.public_pem)
    audited_as_an_auditor_would(directory, key_file)
    assert sorted(p.name for p in exporter.export_dir.iterdir()) == []  # copies cleaned up
