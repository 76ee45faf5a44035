"""gRPC health that follows the database. A service is ready only while its database answers:
a worker runs `probe` (Database.ping: `SELECT 1` on a connection of its own) every `every_s`
seconds, bounded by `timeout_s`, and sets the overall status "" and every RPC service name to
SERVING or NOT_SERVING from the answer, so a replica that lost its database is taken out of
rotation (Kubernetes readiness, the gateway's /readyz, and its callers' round robin, which
watches "": runtime.retries) within about `every_s + timeout_s` seconds, and put back at the
first check after the database answers again (at most `every_s` later; a connection the
restart ended is replaced within that check).

LIVENESS stays SERVING while the process runs (until the graceful stop turns everything
NOT_SERVING): a pod that only lost its database must not be restarted for it, since a restart
cannot bring the database back. Kubernetes' startup and liveness probes ask for it (a pod
starting during a database outage is not killed), its readiness probe for "".

TRADEOPS_HEALTH_CHECK_S (default 1) and TRADEOPS_HEALTH_TIMEOUT_S (default 2) set the two
periods. Health serves the statuses (Check, List, and Watch, which round robin keeps open to each
replica)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from runtime.settings import SettingsError

log = logging.getLogger(__name__)
LIVENESS = "tradeops.liveness"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
EVERY_ENV, TIMEOUT_ENV = "TRADEOPS_HEALTH_CHECK_S", "TRADEOPS_HEALTH_TIMEOUT_S"

Probe = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class HealthSettings:
    every_s: float = 1.0
    timeout_s: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HealthSettings:
        return cls(
            every_s=_seconds(env, EVERY_ENV, cls.every_s),
            timeout_s=_seconds(env, TIMEOUT_ENV, cls.timeout_s),
        )


DEFAULT = HealthSettings()


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


class Health:
    """The standard health service (grpc.health.v1) as grpc_health's servicer serves it, with
    Watch (what round robin asks each replica) an async generator: the interceptors that wrap
    server streams (runtime.grpc_metrics, OpenTelemetry's) iterate them, and grpc_health's Watch
    writes with context.write instead, which fails through them."""

    def __init__(self) -> None:
        self._status: dict[str, int] = {"": SERVING}
        self._changed = asyncio.Condition()
        self._stopping = False

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no health for {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthListResponse:
        statuses = {
            name: health_pb2.HealthCheckResponse(status=s) for name, s in self._status.items()
        }
        return health_pb2.HealthListResponse(statuses=statuses)

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        sent = None
        while True:
            status = self._status.get(request.service, UNKNOWN)
            if status != sent:
                sent = status
                yield health_pb2.HealthCheckResponse(status=status)
                continue  # it may have changed while this was being sent
            if self._stopping:
                # NOT_SERVING was the last word: the stream ends cleanly, so the graceful stop
                # need not wait out its grace for the watchers and cancel them.
                return
            async with self._changed:  # statuses change under this lock: none is missed
                if self._status.get(request.service, UNKNOWN) == sent and not self._stopping:
                    await self._changed.wait()

    async def set(self, service: str, status: int) -> None:
        """Sets `service`'s status, unless the graceful stop has begun."""
        if not self._stopping:
            await self._set(service, status)

    async def enter_graceful_shutdown(self) -> None:
        """Every status NOT_SERVING, for good."""
        async with self._changed:  # all at once: a watcher seeing the stop sees NOT_SERVING
            self._stopping = True
            self._status = dict.fromkeys(self._status, NOT_SERVING)
            self._changed.notify_all()

    async def _set(self, service: str, status: int) -> None:
        async with self._changed:
            self._status[service] = status
            self._changed.notify_all()


@dataclass
class DatabaseHealth:
    """Sets `names` ("" and the RPC services) from `probe`; LIVENESS is not among them
    (runtime.grpc_server sets it once, at start)."""

    checker: Health
    names: Sequence[str]
    probe: Probe
    settings: HealthSettings = DEFAULT
    serving: bool | None = None  # None until the first check

    async def check(self) -> bool:
        """One check; sets the statuses when the answer changed. True when serving."""
        up, reason = True, ""
        try:
            await asyncio.wait_for(self.probe(self.settings.timeout_s), self.settings.timeout_s)
        except Exception as exc:  # any failure to answer in time is a database out of reach
            up, reason = False, f"{type(exc).__name__}: {exc}"
        if up != self.serving:
            status = SERVING if up else NOT_SERVING
            for name in ["", *self.names]:
                await self.checker.set(name, status)
            if up:
                log.info("database answers: health SERVING")
            else:
                log.warning("database does not answer (%s): health NOT_SERVING", reason)
        self.serving = up
        return up

    async def run(self) -> None:
        """The worker: a check every `every_s` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.settings.every_s)
            await self.check()
