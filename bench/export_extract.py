"""Export benchmark: an audit extract of 1,000,000 records to JSON Lines, end to end, against the
REAL audit service: `python -m services.audit` as its own process over the cached
1,000,000-record log (bench/_populated.py; every run works on a copy), the export through its
real code path in this process (services.export.service.exports.create_export: GrpcAuditReader
streaming StreamRecordPages, the file written, hashed and counted, inclusion proofs, the manifest
chained, signed and recorded in the export schema of the same durable PostgreSQL).

RESULT lines:
- export_extract: records/s of the whole export; baseline: records/s of draining the same range
  with StreamRecordPages from the same service, nothing decoded or written (the read's ceiling,
  measured second, so the export pays any cold cache); target: the export takes <= 60 s.
- export_extract_rss: this process's peak RSS in MB after the export (ru_maxrss); baseline: RSS
  before it; target <= 300 MB.
- export_hash: MB/s of services.export.service.verification.directory.sha256_file over the
  written files; baseline: `sha256sum` over the same files in the same run (best of two each,
  alternated); target ratio >= 0.8.
Informative lines: the CPU seconds each process (export, audit service, PostgreSQL) spent on the
export, so the wall time on a shared machine can be told from the work; the database floor (a
plain psycopg COPY of the same rows, joined with their payloads, to nowhere).

    .venv/bin/python bench/export_extract.py [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _proc as proc
import psycopg
from _common import Cluster, result, scratch
from _populated import populated
from _service import Served, audit_service
from audit_proofs import tree_loaded
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import Principal
from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.migrate import upgrade
from runtime.provision import owner_url, service_url
from services.export.clients.audit import GrpcAuditReader
from services.export.domain.exports import Export
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import Signer
from services.export.service.exports import Exporter, create_export
from services.export.service.verification.directory import sha256_file
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

TARGET_S, TARGET_MB, TARGET_RATIO = 60, 300, 0.8
FLOOR_SQL = (
    "COPY (SELECT r.*, p.payload_json FROM audit.records r LEFT JOIN audit.payloads p"
    " ON p.seq = r.seq WHERE r.seq BETWEEN {first} AND {last} ORDER BY r.seq) TO STDOUT"
)


async def _drain(stub: pb_grpc.AuditServiceAsyncStub, token: str, first: int, last: int) -> float:
    """Records/s of merely receiving the range as StreamRecordPages sends it."""
    started, count = time.perf_counter(), 0
    request = pb.StreamRecordsRequest(from_seq=first, to_seq=last)
    async for page in stub.StreamRecordPages(request, metadata=bearer(token), timeout=3600):
        count += len(page.records)
    assert count == last - first + 1, count
    return count / (time.perf_counter() - started)


def _copy_floor(cluster: Cluster, first: int, last: int) -> float:
    """Records/s of the database alone: the same rows COPYed out and thrown away."""
    started = time.perf_counter()
    query = FLOOR_SQL.format(first=first, last=last)
    with psycopg.connect(cluster.admin_url) as conn, conn.cursor().copy(query) as copy:
        for _ in copy:
            pass
    return (last - first + 1) / (time.perf_counter() - started)


def _sha256sum_s(files: list[Path]) -> float:
    started = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], check=True, capture_output=True)
    return time.perf_counter() - started


def _ours_s(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        sha256_file(path)
    return time.perf_counter() - started


async def _export(
    served: Served, pid: int, datadir: Path, db: Database, folder: Path
) -> tuple[Export, float]:
    caller = Principal("svc:bench", frozenset({"service"}), token=served.token)
    async with open_channel(served.address) as channel:
        reader = GrpcAuditReader(
            pb_grpc.AuditServiceStub(channel), timeout_s=30, stream_timeout_s=3600
        )
        signer = Signer(Ed25519PrivateKey.generate())
        exporter = Exporter(db, reader, _NoReports(), signer, folder / "exports")
        before = _cpu(pid, datadir)
        started = time.perf_counter()
        export = await create_export(exporter, ExportRequest("audit_extract"), caller)
        seconds = time.perf_counter() - started
    spent = [after - was for after, was in zip(_cpu(pid, datadir), before, strict=True)]
    print(
        f"  {seconds:.1f} s, {export.size_bytes / 1e6:,.0f} MB written; CPU seconds: export"
        f" process {spent[0]:.1f}, audit service {spent[1]:.1f} (peak RSS"
        f" {proc.peak_rss_mb(pid):,.0f} MB), PostgreSQL {spent[2]:.1f}",
        flush=True,
    )
    return export, seconds


def _cpu(pid: int, datadir: Path) -> tuple[float, float, float]:
    return proc.own_cpu_s(), proc.cpu_s(pid), proc.server_cpu_s(datadir)


async def _measure(cluster: Cluster, keys_file: Path, folder: Path, size: int) -> bool:
    export_url = service_url(cluster.server.url(), "export")
    upgrade("export", owner_url(cluster.server.url(), "export"))
    db = Database.connect(export_url)
    async with audit_service(cluster, keys_file) as served:
        await tree_loaded(served)
        pid = served.pid
        rss_before = proc.own_peak_rss_mb()
        print(f"exporting {size:,} records from the real audit service ...", flush=True)
        export, seconds = await _export(served, pid, cluster.server.datadir, db, folder)
        rss = proc.own_peak_rss_mb()
        assert export.record_count >= size, (export.state, export.failure_reason)
        first, last = export.from_seq, export.from_seq + export.record_count - 1
        print("draining the same range with StreamRecordPages, nothing written (baseline) ...")
        async with open_channel(served.address) as channel:
            drain = await _drain(pb_grpc.AuditServiceStub(channel), served.token, first, last)
    await db.dispose()
    floor = _copy_floor(cluster, first, last)
    print(f"  drain {drain:,.0f} records/s; database floor (COPY out) {floor:,.0f} records/s")
    return _verdict(export, folder, seconds, drain, (rss_before, rss))


def _verdict(
    export: Export, folder: Path, seconds: float, drain: float, rss: tuple[float, float]
) -> bool:
    files = [folder / "exports" / export.directory / f.name for f in export.files]
    # Best of two each, alternating, so neither pays alone for a cold page cache.
    theirs, ours = _sha256sum_s(files), _ours_s(files)
    theirs, ours = min(theirs, _sha256sum_s(files)), min(ours, _ours_s(files))
    megabytes = sum(f.size_bytes for f in export.files) / 1e6
    ok = [seconds <= TARGET_S, rss[1] <= TARGET_MB, theirs / ours >= TARGET_RATIO]
    print(f"  export {seconds:.1f} s (target <= {TARGET_S} s)", flush=True)
    result("export_extract", export.record_count / seconds, "records/s", drain, "<=60s", ok[0])
    result("export_extract_rss", rss[1], "MB", rss[0], "<=300MB", ok[1])
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
    args = parser.parse_args()
    with populated(args.records) as (cluster, keys_file), scratch("export") as folder:
        ok = asyncio.run(_measure(cluster, keys_file, folder, args.records))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
