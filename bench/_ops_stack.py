"""The ops benchmarks' system; import-only (`make bench` skips bench/_*.py). A durable private
PostgreSQL with the audit and ops schemas migrated, and the real audit, ops and (optionally)
gateway processes started by runtime.stack.Stack, as `make run` and the e2e tests start them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import _proc as proc
from _keys import BenchKeys
from google.protobuf import struct_pb2

from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import owner_url, provision, service_url
from runtime.settings import SERVICES
from runtime.stack import Stack
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb

Call = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class System:
    stack: Stack
    server: LocalPostgres
    admin_url: str  # superuser, database "tradeops"
    keys: BenchKeys
    home: Path

    def token(self, subject: str, *roles: str) -> str:
        """A person's token, or with the role `service` the benchmark's own for ops."""
        return self.keys.service("ops") if "service" in roles else self.keys.person(subject, *roles)

    def stack_pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.stack.procs.items()}


def system_env(server: LocalPostgres, home: Path, keys: BenchKeys) -> dict[str, str]:
    """Every process's environment for a benchmark's system on `server` (any of the five)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}  # no exporters
    env.update(
        **keys.env(),
        TRADEOPS_EXPORT_DIR=str(home / "exports"),
        TRADEOPS_AUDIT_SIGNING_KEYS_FILE=str(home / "audit-signing-keys.json"),
        TRADEOPS_AUDIT_CREATE_DEV_KEYS="1",
        TRADEOPS_AUDIT_VERIFY_EVERY_S="86400",  # no scheduled auditor during a run
        TRADEOPS_EXPORT_SIGNING_KEY_FILE=str(home / "export-signing-key.pem"),
        TRADEOPS_EXPORT_CREATE_DEV_KEY="1",
        TRADEOPS_GATEWAY_PORT=str(free_port()),
    )
    for service in SERVICES:
        env[f"TRADEOPS_{service.upper()}_DATABASE_URL"] = service_url(server.url(), service)
        env[f"TRADEOPS_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    return env


@contextlib.contextmanager
def system(
    home: Path, *, gateway: bool, extra_env: Mapping[str, str] | None = None
) -> Iterator[System]:
    """Postgres (durable) + audit + ops (+ gateway), stopped in reverse order on exit.
    `extra_env` is added to every process's environment (tracing settings, for example)."""
    server = LocalPostgres(home / "pgdata", durable=True)
    server.start()
    stack: Stack | None = None
    try:
        provision(server.url())
        for service in ("audit", "ops"):
            upgrade(service, owner_url(server.url(), service))
        keys = BenchKeys(home / "keys")
        stack = Stack({**system_env(server, home, keys), **(extra_env or {})}, home / "logs")
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        for name in ("audit", "ops", "gateway") if gateway else ("audit", "ops"):
            stack.start_one(name)
        yield System(stack, server, server.url(database="tradeops"), keys, home)
    finally:
        if stack is not None:
            stack.stop()
        server.stop()


@dataclass(frozen=True)
class Whole:
    stack: Stack
    admin_url: str  # superuser, database "tradeops"
    keys: BenchKeys
    datadir: Path

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of every process: the five, PostgreSQL and this benchmark."""
        spent = {name: proc.cpu_s(p.pid) for name, p in self.stack.procs.items()}
        return {**spent, "postgres": proc.server_cpu_s(self.datadir), "bench": proc.own_cpu_s()}


@contextlib.contextmanager
def whole_system(home: Path) -> Iterator[Whole]:
    """Durable PostgreSQL, every schema migrated, the five processes started and stopped."""
    server = LocalPostgres(home / "pgdata", durable=True)
    server.start()
    try:
        provision(server.url())
        for service in SERVICES:
            upgrade(service, owner_url(server.url(), service))
        keys = BenchKeys(home / "keys")
        with Stack(system_env(server, home, keys), home / "logs") as stack:
            yield Whole(stack, server.url(database="tradeops"), keys, home / "pgdata")
    finally:
        server.stop()


def proposal(index: int, *, kind: str = "restart_service") -> pb.ProposeActionRequest:
    parameters = struct_pb2.Struct()
    parameters.update({"service": f"pricer-{index % 17}", "desk": "rates-emea"})
    return pb.ProposeActionRequest(
        kind=kind,
        parameters=parameters,
        risk=pb.RISK_LOW,
        rationale="bench: pricer stuck after a market-data gap",
        requested_by="trader-bench",
        proposed_by=common_pb2.Actor(subject="svc:bench", roles=["service"], kind="service"),
        incident_id=f"inc-{index // 10}",
        decision_id=f"dec-{index}",
        source_ref=f"bench-{index}-{secrets.token_hex(4)}",
    )


async def closed_loop(call: Call, count: int, concurrency: int) -> float:
    """Calls call(0..count-1) with `concurrency` callers; returns calls/s."""
    cursor = iter(range(count))

    async def caller() -> None:
        for index in cursor:
            await call(index)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def open_loop(call: Call, rate: float, seconds: float, grace: float = 5.0) -> Paced:
    """Call i is due at i/rate; each latency is timed from when it was due (ms), so a stall
    shows up as latency rather than as fewer sends. Calls failing, or still running `grace`
    seconds after the last send, are cancelled and counted at the time they were given up on
    (a lower bound), so an overloaded run ends in bounded time and its p99 is not hidden."""
    total = int(rate * seconds)
    latencies: list[float] = []
    start = time.perf_counter() + 0.05
    failed = 0

    async def one(index: int, due: float) -> None:
        nonlocal failed
        try:
            await call(index)
        except Exception:
            failed += 1
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    for index in range(total):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    now = time.perf_counter()
    latencies.extend((now - (start + i / rate)) * 1000 for i, t in enumerate(tasks) if t in late)
    return Paced(latencies, failed, len(late))


@dataclass(frozen=True)
class Paced:
    latencies: list[float]  # ms, every call (unfinished ones as a lower bound)
    failed: int
    unfinished: int

    def describe(self) -> str:
        return (
            f"p50 {statistics.median(self.latencies):.1f} ms, p99 {p99(self.latencies):.1f} ms,"
            f" {self.failed} failed, {self.unfinished} unfinished of {len(self.latencies)}"
        )


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]
