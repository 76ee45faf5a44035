"""gRPC health that follows the database. A service is ready only while its database answers:
a worker runs `probe` (Database.ping: `SELECT 1` on a connection of its own) every `every_s`
seconds, bounded by `timeout_s`, and sets the overall status "" and every RPC service name to
SERVING or NOT_SERVING from the answer, so a replica that lost its database is taken out of
rotation (Kubernetes readiness, the gateway's /readyz, client-side round robin) within about
`every_s + timeout_s` seconds, and put back as soon as the database answers again.

LIVENESS stays SERVING while the process runs (until the graceful stop turns everything
NOT_SERVING): a pod that only lost its database must not be restarted for it, since a restart
cannot bring the database back. Kubernetes' liveness probe asks for it, its readiness probe for
"".

TRADEOPS_HEALTH_CHECK_S (default 1) and TRADEOPS_HEALTH_TIMEOUT_S (default 2) set the two
periods."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from runtime.settings import SettingsError

log = logging.getLogger(__name__)
LIVENESS = "tradeops.liveness"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
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


@dataclass
class DatabaseHealth:
    """Sets `names` ("" and the RPC services) from `probe`; LIVENESS is not among them
    (runtime.grpc_server sets it once, at start)."""

    checker: HealthServicer
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
