"""gRPC server bootstrap shared by the four services: the guard interceptor, the standard
health service (following the database when given a probe: runtime.health), server reflection,
message size limits, background workers, and a graceful stop on SIGTERM/SIGINT (health goes
NOT_SERVING, the services' drains end their long-lived streams, in-flight calls get `grace`
seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from runtime.auth import TokenVerifier
from runtime.grpc_guard import Guard, Rbac, RefusalHook
from runtime.grpc_metrics import RpcMetrics
from runtime.health import DEFAULT, LIVENESS, DatabaseHealth, Health, HealthSettings, Probe
from runtime.idempotency import Idempotent, KeyedCalls
from runtime.refusal_hook import AggregatedRefusals
from runtime.tls import TlsFiles

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# Request metadata (headers) of any size is refused past this: a bearer token with many groups
# fits, a caller padding headers to make the server buffer them does not.
MAX_METADATA_BYTES = 16 * 1024
GRACE_S = 10.0
SETTLE_S = 1.0
# Connections end (gracefully: GOAWAY, calls in flight finish) at this age, so that a client of
# a name resolving to replicas (dns:///, a Kubernetes headless Service) resolves it again and
# spreads over the replicas added since: gRPC resolves a name again only when a connection ends.
MAX_CONNECTION_AGE_S = 300.0
# How long calls in flight on an aged connection may still run: the longest default deadline
# (TRADEOPS_LONG_RPC_TIMEOUT_S) and a margin.
MAX_CONNECTION_AGE_GRACE_S = 330.0
# Clients ping an open connection every KEEPALIVE_S (runtime.clients) to find a dead peer; a
# server allows pings no closer than this and, past two that are, ends the connection
# ("too_many_pings"), failing every call on it. gRPC's own floor is 5 minutes: with round robin
# keeping a health Watch open on each connection, clients were cut off every minute or two.
MIN_PING_INTERVAL_S = 10.0

Worker = Callable[[], Coroutine[Any, Any, None]]
# Called once, when the graceful stop begins: a server stream that would otherwise run until its
# client leaves ends itself (with OK), so the stop need not wait out its grace and cancel it.
Drain = Callable[[], None]


@dataclass
class ServiceSpec:
    """What a service contributes: its servicers, full service names and RBAC table."""

    register: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    rbac: Rbac
    workers: Sequence[Worker] = field(default_factory=list)
    # Writes an audit event for every call the guard refuses (no token, wrong role).
    on_refused: RefusalHook | None = None
    # The creating RPCs that honour an `idempotency-key` (runtime.idempotency).
    idempotent: Idempotent | None = None
    drains: Sequence[Drain] = field(default_factory=list)


def merge(*specs: ServiceSpec) -> ServiceSpec:
    """One ServiceSpec serving every given service from one process: their servicers, the union
    of their RBAC tables (a method belongs to one service, so nothing is overridden) and all
    their workers."""

    def register(server: grpc.aio.Server) -> None:
        for each in specs:
            each.register(server)

    return ServiceSpec(
        register=register,
        service_names=[name for each in specs for name in each.service_names],
        rbac={method: roles for each in specs for method, roles in each.rbac.items()},
        workers=[worker for each in specs for worker in each.workers],
        drains=[drain for each in specs for drain in each.drains],
    )


@dataclass
class Running:
    server: grpc.aio.Server
    port: int
    health: Health
    tasks: list[asyncio.Task[None]]
    drains: Sequence[Drain] = ()

    async def stop(self, grace: float = GRACE_S) -> None:
        await self.health.enter_graceful_shutdown()
        for drain in self.drains:
            drain()
        await self.server.stop(grace)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def start(
    spec: ServiceSpec,
    listen: str,
    verifier: TokenVerifier,
    tls: TlsFiles | None = None,
    max_receive_bytes: int = MAX_MESSAGE_BYTES,
    ready: Probe | None = None,
    health: HealthSettings = DEFAULT,
) -> Running:
    """Starts serving on `listen` (port 0 picks a free port) and launches the workers. With
    `tls`, only mutual TLS is served: a client without a certificate from the CA is refused.
    A request over `max_receive_bytes` (runtime.message_limits.grpc_message_limit) fails with
    RESOURCE_EXHAUSTED before any handler runs. With `ready` (the database's ping), health
    says SERVING only while it answers, checked once before this returns and then every
    `health.every_s`; without, SERVING from the start."""
    # After the guard: a key belongs to the authenticated caller.
    keyed = [KeyedCalls(spec.idempotent)] if spec.idempotent is not None else []
    server = grpc.aio.server(
        interceptors=[RpcMetrics(), Guard(verifier, spec.rbac, spec.on_refused), *keyed],
        options=[
            ("grpc.max_receive_message_length", max_receive_bytes),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # Soft and hard limits alike: past the soft one gRPC refuses only some calls.
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
            # gRPC sets SO_REUSEPORT by default: a second server on a port already in use
            # would share its calls (seen as UNIMPLEMENTED from the wrong service) instead of
            # failing to bind.
            ("grpc.so_reuseport", 0),
            ("grpc.max_connection_age_ms", int(MAX_CONNECTION_AGE_S * 1000)),
            ("grpc.max_connection_age_grace_ms", int(MAX_CONNECTION_AGE_GRACE_S * 1000)),
            ("grpc.http2.min_ping_interval_without_data_ms", int(MIN_PING_INTERVAL_S * 1000)),
        ],
    )
    spec.register(server)
    checker = Health()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = [*spec.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    if tls is None:
        port = server.add_insecure_port(listen)
    else:
        port = server.add_secure_port(listen, tls.server_credentials())
    await server.start()
    await checker.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    workers = list(spec.workers)
    if ready is None:
        for name in ["", *spec.service_names]:
            await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    else:
        follower = DatabaseHealth(checker, spec.service_names, ready, health)
        await follower.check()
        workers.append(follower.run)
    if isinstance(spec.on_refused, AggregatedRefusals):
        workers.append(spec.on_refused.run)  # without it, counted refusals would never be written
    tasks = [asyncio.create_task(worker()) for worker in workers]
    return Running(server, port, checker, tasks, list(spec.drains))


async def serve_until_signalled(running: Running) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving gRPC on port %d", running.port)
    await stop.wait()
    log.info("draining in-flight calls")
    await running.stop()
    await _settle(SETTLE_S)


async def _settle(timeout_s: float) -> None:
    """Waits (a bounded while) for the loop's other tasks to end. The server stops once its
    calls ended in gRPC's core, which can be before the tasks running them have seen it: the
    process's exit would cancel those tasks, and gRPC reports each as an unhandled error."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=timeout_s)
