"""A fake audit service (the real contract, served in-process) and the reader pointed at it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import COMPLIANCE, SERVICE, Principal
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.export.clients.audit import GrpcAuditReader
from services.export.domain.exports import Export
from services.export.domain.signing import Signer
from services.export.service.exports import Exporter
from tests.keys import verifier_for
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.common.v1 import common_pb2

Context = grpc.aio.ServicerContext[Any, Any]
STREAM = "/tradeops.audit.v1.AuditService/StreamRecords"
PAGES = "/tradeops.audit.v1.AuditService/StreamRecordPages"
CHECKPOINT = "/tradeops.audit.v1.AuditService/GetCheckpoint"
PROOF = "/tradeops.audit.v1.AuditService/GetInclusionProof"
ROOT = "5e" * 32
# A signed note as the audit service returns it; non-ASCII in the origin tests "byte for byte".
NOTE = (
    "tradeops.local/audit-Zürich\n3\nXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl4=\n\n"
    "\u2014 tradeops.local/audit-Zürich q0K5Mv3Zt2mJYcFQm0jv3tC2hKk0cGhlaZ1t7w==\n"
)


RECORDED_AT = 1_700_000_000


def audit_record(seq: int) -> audit_pb2.AuditRecord:
    event = audit_pb2.AuditEvent(
        event_id=f"00000000-0000-4000-8000-{seq:012d}",
        actor=common_pb2.Actor(subject="alice", roles=["ops"], kind="person"),
        action="ops.action.approved",
        target=f"action/{seq}",
        outcome="success",
        payload_json='{"note":"Zürich desk"}',
        source="ops",
    )
    event.occurred_at.FromSeconds(1_700_000_000 + seq)
    record = audit_pb2.AuditRecord(
        seq=seq, event=event, payload_sha256="ab" * 32, leaf_hash=f"{seq:064x}"
    )
    record.recorded_at.FromSeconds(RECORDED_AT + seq)
    return record


@dataclass
class FakeAudit(audit_grpc.AuditServiceServicer):
    """Streams `records` in range (one by one, or in pages of `page_size`); remembers the
    authorization each call carried. `fail_after` aborts the stream with UNAVAILABLE after that
    many records, `stall_after` stops sending
    (without ending the stream) after that many; `refuse` aborts at once. GetCheckpoint serves
    `checkpoint`, or NOT_FOUND when it is None; `refuse_checkpoint` aborts it instead."""

    records: list[audit_pb2.AuditRecord] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    checkpoint: audit_pb2.SignedCheckpoint | None = None
    checkpoint_authorizations: list[str] = field(default_factory=list)
    refuse_checkpoint: grpc.StatusCode | None = None
    fail_after: int | None = None
    refuse: grpc.StatusCode | None = None
    stall_after: int | None = None
    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    proofs_asked: list[tuple[int, int]] = field(default_factory=list)
    page_size: int = 2
    pages_sent: int = 0
    port: int = 0

    async def StreamRecords(
        self, request: audit_pb2.StreamRecordsRequest, context: Context
    ) -> AsyncIterator[audit_pb2.AuditRecord]:
        self.authorizations.append(_authorization(context))
        if self.refuse is not None:
            await context.abort(self.refuse, "not for you")
        for sent, record in enumerate(r for r in self.records if _in_range(r.seq, request)):
            if sent == self.fail_after:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "disk on fire")
            if sent == self.stall_after:
                self.stalled.set()
                await asyncio.Event().wait()
            yield record

    async def StreamRecordPages(
        self, request: audit_pb2.StreamRecordsRequest, context: Context
    ) -> AsyncIterator[audit_pb2.RecordPage]:
        """The same records as StreamRecords, `page_size` to a page, failing or stalling at
        the same record."""
        page: list[audit_pb2.AuditRecord] = []
        async for record in self.StreamRecords(request, context):
            if len(page) == self.page_size:
                self.pages_sent += 1
                yield audit_pb2.RecordPage(records=page)
                page = []
            page.append(record)
        if page:
            self.pages_sent += 1
            yield audit_pb2.RecordPage(records=page)

    async def GetCheckpoint(
        self, request: audit_pb2.GetCheckpointRequest, context: Context
    ) -> audit_pb2.SignedCheckpoint:
        self.checkpoint_authorizations.append(_authorization(context))
        if self.refuse_checkpoint is not None:
            await context.abort(self.refuse_checkpoint, "not for you")
        if request.tree_size != 0 or self.checkpoint is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no checkpoint yet")
        return self.checkpoint

    async def GetInclusionProof(
        self, request: audit_pb2.InclusionProofRequest, context: Context
    ) -> audit_pb2.InclusionProof:
        self.proofs_asked.append((request.seq, request.tree_size))
        return audit_pb2.InclusionProof(
            seq=request.seq,
            tree_size=request.tree_size,
            leaf_hash=f"{request.seq:064x}",
            proof=["cd" * 32],
            root_hash=ROOT,
        )

    async def AppendEvents(self, request: Any, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this fake")

    async def ListRecords(self, request: Any, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this fake")

    async def VerifyChain(self, request: Any, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this fake")


def signed_checkpoint(tree_size: int, note: str = NOTE) -> audit_pb2.SignedCheckpoint:
    return audit_pb2.SignedCheckpoint(
        tree_size=tree_size, root_hash=ROOT, key_id="0badf00d", note=note, origin="tradeops"
    )


def _authorization(context: Context) -> str:
    return str(dict(context.invocation_metadata() or ())["authorization"])


def _in_range(seq: int, request: audit_pb2.StreamRecordsRequest) -> bool:
    return seq >= request.from_seq and (request.to_seq == -1 or seq <= request.to_seq)


@pytest.fixture
async def fake_audit(auth_settings: AuthSettings) -> AsyncIterator[FakeAudit]:
    fake = FakeAudit(records=[audit_record(seq) for seq in range(5)])  # type: ignore[abstract]  # a fake serves only what the test calls
    spec = ServiceSpec(
        register=lambda server: audit_grpc.add_AuditServiceServicer_to_server(fake, server),
        service_names=["tradeops.audit.v1.AuditService"],
        rbac={
            STREAM: COMPLIANCE | {SERVICE},
            PAGES: COMPLIANCE | {SERVICE},
            CHECKPOINT: COMPLIANCE | {SERVICE},
            PROOF: COMPLIANCE | {SERVICE},
        },
    )
    running = await start(spec, "127.0.0.1:0", verifier_for(spec, auth_settings))
    fake.port = running.port
    try:
        yield fake
    finally:
        await running.stop(0)


@pytest.fixture
async def reader_for() -> AsyncIterator[Callable[[int], GrpcAuditReader]]:
    channels: list[grpc.aio.Channel] = []

    def make(port: int) -> GrpcAuditReader:
        channels.append(open_channel(f"127.0.0.1:{port}"))
        stub = audit_grpc.AuditServiceStub(channels[-1])
        return GrpcAuditReader(stub, timeout_s=5, stream_timeout_s=5)

    yield make
    for channel in channels:
        await channel.close(None)


@pytest.fixture
async def audit_reader(
    fake_audit: FakeAudit, reader_for: Callable[[int], GrpcAuditReader]
) -> GrpcAuditReader:
    return reader_for(fake_audit.port)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: the audit service is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FakeReports:
    """Report rows served in-process: the reports' own gRPC readers are tested separately."""

    def __init__(self) -> None:
        self.actions_rows: list[dict[str, Any]] = [
            {"id": "a1", "kind": "failover", "votes": [{"voter": "bob"}], "policy": {"name": "p"}}
        ]
        self.incident_rows: list[dict[str, Any]] = [{"id": "i1", "kind": "stale_price"}]

    async def actions(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        for row in self.actions_rows:
            yield row

    async def incidents(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        for row in self.incident_rows:
            yield row


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


@pytest.fixture
def key_file(tmp_path: Path, signer: Signer) -> Path:
    path = tmp_path / "key.pub.pem"
    path.write_bytes(signer.public_pem)
    return path


@pytest.fixture
def exporter(
    export_db: Database, audit_reader: GrpcAuditReader, signer: Signer, tmp_path: Path
) -> Exporter:
    return Exporter(
        export_db, audit_reader, FakeReports(), signer, tmp_path / "exports", destinations=()
    )


@pytest.fixture
async def replicas(db_urls: dict[str, str]) -> AsyncIterator[tuple[Database, Database]]:
    """Two connection pools to the export schema, as two replicas of the service would have."""
    first, second = Database.connect(db_urls["export"]), Database.connect(db_urls["export"])
    yield first, second
    await first.dispose()
    await second.dispose()
