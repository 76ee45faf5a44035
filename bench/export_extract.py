"""Export benchmark: an audit extract of 1,000,000 records to JSON Lines through the real code path
(services.export.service.create_export: GrpcAuditReader streaming over gRPC, the file written,
hashed, counted, the manifest chained, signed and recorded in a durable private PostgreSQL).

The audit service is a FAKE: a small AuditService servicer in a child process that streams
synthetic records (and serves a checkpoint and inclusion proofs) over real gRPC. So the figure
is the export service's own cost plus gRPC transport, not the audit service's database reads.

RESULT lines:
- export_extract: records/s of the whole export (read as pages of records, StreamRecordPages);
  baseline: records/s of merely draining the range with StreamRecords, one message per record
  and nothing decoded or written: the ceiling of the export before pages (it took 62 s then);
  target: the export takes <= 60 s.
- export_extract_rss: the process's peak RSS in MB after the export (ru_maxrss; the child
  process is not counted); baseline: RSS before the export; target <= 300 MB.
- export_hash: MB/s of services.export.verification.sha256_file over the written files;
  baseline: `sha256sum` over the same files in the same run (best of two runs each, alternated);
  target ratio >= 0.8.

    .venv/bin/python bench/export_extract.py [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc
from _common import result, scratch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import COMPLIANCE, SERVICE, Principal, TokenVerifier, mint_token
from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.errors import Unavailable
from runtime.grpc_server import ServiceSpec, start
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import provision, service_url
from runtime.settings import AuthSettings
from services.export.audit_reader import GrpcAuditReader
from services.export.requests import ExportRequest
from services.export.service import Exporter, create_export
from services.export.signing import Signer
from services.export.verification import sha256_file
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

Context = grpc.aio.ServicerContext[Any, Any]
SERVICE_NAME = "tradeops.audit.v1.AuditService"
PAGE_SIZE = 1000  # as services/audit/record_pages.py sends them
PAYLOAD = '{"action_id":"act-000000001","desk":"rates-emea","note":"approved after review"}'


class FakeAudit:
    """StreamRecords, StreamRecordPages, GetCheckpoint and GetInclusionProof over `size`
    synthetic records, which are serialized once before serving: the fake should cost as little
    CPU as possible, as it shares the machine with the export being measured."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._wire = [_record(seq).SerializeToString() for seq in range(size)]
        # Each record framed as RecordPage's field 1, so a page is a mere concatenation.
        self._framed = [b"\n" + _varint(len(wire)) + wire for wire in self._wire]

    def _last(self, request: pb.StreamRecordsRequest) -> int:
        return self._size - 1 if request.to_seq < 0 else min(request.to_seq, self._size - 1)

    async def stream_records(self, request: pb.StreamRecordsRequest, context: Context) -> Any:
        for seq in range(request.from_seq, self._last(request) + 1):
            yield self._wire[seq]

    async def stream_record_pages(self, request: pb.StreamRecordsRequest, context: Context) -> Any:
        end = self._last(request) + 1
        for first in range(request.from_seq, end, PAGE_SIZE):
            yield b"".join(self._framed[first : min(first + PAGE_SIZE, end)])

    async def get_checkpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.SignedCheckpoint:
        note = f"bench/audit\n{self._size}\nAAAA\n\n\u2014 bench/audit AAAA\n"
        return pb.SignedCheckpoint(tree_size=self._size, root_hash="00" * 32, note=note)

    async def get_inclusion_proof(
        self, request: pb.InclusionProofRequest, context: Context
    ) -> pb.InclusionProof:
        return pb.InclusionProof(seq=request.seq, tree_size=request.tree_size, proof=["00" * 32])

    def handler(self) -> Any:
        def unary(method: Any, request: Any) -> Any:
            return grpc.unary_unary_rpc_method_handler(
                method,
                request_deserializer=request.FromString,
                response_serializer=lambda message: message.SerializeToString(),
            )

        methods = {
            "StreamRecords": grpc.unary_stream_rpc_method_handler(
                self.stream_records,
                request_deserializer=pb.StreamRecordsRequest.FromString,
                response_serializer=None,  # already bytes
            ),
            "StreamRecordPages": grpc.unary_stream_rpc_method_handler(
                self.stream_record_pages,
                request_deserializer=pb.StreamRecordsRequest.FromString,
                response_serializer=None,  # already bytes
            ),
            "GetCheckpoint": unary(self.get_checkpoint, pb.GetCheckpointRequest),
            "GetInclusionProof": unary(self.get_inclusion_proof, pb.InclusionProofRequest),
        }
        return grpc.method_handlers_generic_handler(SERVICE_NAME, methods)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _record(seq: int) -> pb.AuditRecord:
    actor = common_pb2.Actor(subject=f"user-{seq % 97}", roles=["ops"], kind="person")
    event = pb.AuditEvent(
        event_id=f"00000000-0000-4000-8000-{seq:012d}",
        actor=actor,
        action="ops.action.approved",
        target=f"action/{seq // 3}",
        outcome="success",
        trace_id=f"{seq:032x}",
        payload_json=PAYLOAD,
        source="ops",
    )
    event.occurred_at.FromSeconds(1_700_000_000 + seq)
    record = pb.AuditRecord(
        seq=seq, event=event, payload_sha256="ab" * 32, prev_hash="cd" * 32, leaf_hash="ef" * 32
    )
    record.recorded_at.FromSeconds(1_700_000_000 + seq)
    return record


def _serve(size: int, port: int, secret: str) -> None:
    async def main() -> None:
        handler = FakeAudit(size).handler()
        methods = ("StreamRecords", "StreamRecordPages", "GetCheckpoint", "GetInclusionProof")
        spec = ServiceSpec(
            register=lambda server: server.add_generic_rpc_handlers((handler,)),
            service_names=[SERVICE_NAME],
            rbac={f"/{SERVICE_NAME}/{m}": COMPLIANCE | {SERVICE} for m in methods},
        )
        running = await start(spec, f"127.0.0.1:{port}", TokenVerifier(_auth(secret)))
        await running.server.wait_for_termination()

    asyncio.run(main())


def _auth(secret: str) -> AuthSettings:
    return AuthSettings(secret, "tradeops-bench", "tradeops", token_ttl_s=3600)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _drain(stub: pb_grpc.AuditServiceAsyncStub, caller: Principal, size: int) -> float:
    """Records/s of merely draining StreamRecords (one message per record, nothing decoded
    into JSON or written): the ceiling of the export before StreamRecordPages."""
    started, count = time.perf_counter(), 0
    request = pb.StreamRecordsRequest(from_seq=0, to_seq=size - 1)
    async for _ in stub.StreamRecords(request, metadata=bearer(caller.token), timeout=3600):
        count += 1
    assert count == size, count
    return count / (time.perf_counter() - started)


async def _until_serving(reader: GrpcAuditReader, caller: Principal) -> None:
    """The child process needs a few seconds to import and start its server."""
    error: Exception | None = None
    for _ in range(1800):  # the fake serializes its records first
        try:
            await reader.latest_checkpoint(caller)
            return
        except Unavailable as exc:
            error = exc
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the fake audit service did not start: {error}")


def _sha256sum_s(files: list[Path]) -> float:
    started = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], check=True, capture_output=True)
    return time.perf_counter() - started


def _ours_s(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        sha256_file(path)
    return time.perf_counter() - started


def _start_fake(size: int, port: int, secret: str) -> subprocess.Popen[str]:
    serve = [sys.executable, __file__, "--serve", str(port), "--records", str(size)]
    child = subprocess.Popen(serve, stdin=subprocess.PIPE, text=True)
    assert child.stdin is not None
    child.stdin.write(secret + "\n")  # not on the command line, where `ps` shows it
    child.stdin.close()
    return child


async def run(size: int, folder: Path) -> bool:
    secret, port = secrets.token_hex(16), free_port()
    child = _start_fake(size, port, secret)
    server = LocalPostgres(folder / "pg", durable=True)
    server.start()
    try:
        provision(server.url())
        export_url = service_url(server.url(), "export")
        upgrade("export", export_url)
        return await _measure(size, folder, port, secret, Database.connect(export_url))
    finally:
        server.stop()
        child.terminate()
        child.wait()


async def _measure(size: int, folder: Path, port: int, secret: str, db: Database) -> bool:
    token = mint_token(_auth(secret), "bench", ["compliance"])
    caller = Principal("bench", frozenset({"compliance"}), token=token)
    channel = open_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.AuditServiceStub(channel)
    reader = GrpcAuditReader(stub, timeout_s=10, stream_timeout_s=3600)
    await _until_serving(reader, caller)
    exporter = Exporter(
        db, reader, _NoReports(), Signer(Ed25519PrivateKey.generate()), folder / "exports"
    )
    rss_before = _rss_mb()
    print(f"exporting {size:,} records (fake audit service in a child process) ...", flush=True)
    started = time.perf_counter()
    export = await create_export(exporter, ExportRequest("audit_extract"), caller)
    seconds = time.perf_counter() - started
    rss = _rss_mb()
    assert export.record_count == size, (export.state, export.failure_reason)
    print(f"  {seconds:.1f} s, {export.size_bytes / 1e6:,.0f} MB written", flush=True)
    print("draining StreamRecords, one message per record, without writing (baseline) ...")
    drain = await _drain(stub, caller, size)
    await channel.close(None)
    await db.dispose()
    files = [folder / "exports" / export.id / f.name for f in export.files]
    # Best of two each, alternating, so neither pays alone for a cold page cache.
    theirs, ours = _sha256sum_s(files), _ours_s(files)
    theirs, ours = min(theirs, _sha256sum_s(files)), min(ours, _ours_s(files))
    megabytes = sum(f.size_bytes for f in export.files) / 1e6
    ok = [seconds <= 60, rss <= 300, theirs / ours >= 0.8]
    print(f"  export {seconds:.1f} s (target <= 60 s); pass={str(ok[0]).lower()}", flush=True)
    result("export_extract", size / seconds, "records/s", drain, "<=60s", ok[0])
    result("export_extract_rss", rss, "MB", rss_before, "<=300MB", ok[1])
    result("export_hash", megabytes / ours, "MB/s", megabytes / theirs, "ratio>=0.8", ok[2])
    return all(ok)


class _NoReports:
    def actions(self, export: Any, caller: Principal) -> Any:
        raise NotImplementedError

    def incidents(self, export: Any, caller: Principal) -> Any:
        raise NotImplementedError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.records, args.serve, sys.stdin.readline().strip())
        return 0
    with scratch("export") as folder:
        ok = asyncio.run(run(args.records, folder))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
