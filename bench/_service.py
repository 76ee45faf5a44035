"""The audit service as a separate process for the benchmarks; import-only (`make bench` skips
bench/_*.py). It runs exactly as deployed (`python -m services.audit`), configured by environment,
with a fresh JWT secret and a service token for the client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from _common import REPO, Cluster
from _keys import BenchKeys
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.clients import open_channel
from runtime.pgserver import free_port


@dataclass(frozen=True)
class Served:
    address: str
    token: str
    log: Path  # the service's own output
    pid: int
    writer: str = ""  # ops's service token: audit accepts events of source "ops" from ops alone


def _service_env(cluster: Cluster, keys_file: Path, port: int, keys: BenchKeys) -> dict[str, str]:
    return {
        **os.environ,
        **keys.env(),
        "TRADEOPS_AUDIT_DATABASE_URL": cluster.audit_url,
        "TRADEOPS_GRPC_LISTEN": f"127.0.0.1:{port}",
        "TRADEOPS_AUDIT_SIGNING_KEYS_FILE": str(keys_file),
        "TRADEOPS_AUDIT_CREATE_DEV_KEYS": "1",
        "TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS": "1000",
        "TRADEOPS_AUDIT_CHECKPOINT_EVERY_MS": "1000",
        "TRADEOPS_AUDIT_VERIFY_EVERY_S": "86400",  # no scheduled auditor during a run
    }


@contextlib.asynccontextmanager
async def audit_service(cluster: Cluster, keys_file: Path) -> AsyncIterator[Served]:
    """`python -m services.audit` as its own process, until it reports SERVING."""
    port, keys = free_port(), BenchKeys(keys_file.parent / "token-keys")
    log = keys_file.parent / "audit-service.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.audit",
        env=_service_env(cluster, keys_file, port, keys),
        cwd=REPO,
        stdout=_open_log(log),
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await until_serving(f"127.0.0.1:{port}", process, log)
        address, writer = f"127.0.0.1:{port}", keys.service("audit", owner="ops")
        yield Served(address, keys.service("audit"), log, process.pid, writer)
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()


def _open_log(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:]


async def until_serving(
    address: str, process: asyncio.subprocess.Process, log: Path, name: str = "audit"
) -> None:
    """Waits for a benchmark's service process to answer its health check as SERVING."""
    async with open_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(300):
            if process.returncode is not None:
                raise RuntimeError(f"{name} service exited:\n{tail(log)}")
            with contextlib.suppress(Exception):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} service did not start:\n{tail(log)}")
