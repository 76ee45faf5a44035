"""Every request the gateway refuses (401 or 403) becomes a `gateway.access.denied` audit
event, like the refusals of the services' own guards.

The gateway owns no database, so it has no outbox: refusals wait in a bounded in-memory queue
and a background task sends them to the audit service in batches, retrying with backoff while
audit is away. The bound matters: a flood of bad requests must not grow memory without limit.
When the queue is full the oldest refusals are dropped and counted, and the count itself is
audited (`gateway.access.denied.dropped`), so the log says that it is incomplete and by how
much. Nobody was told "recorded" about a refusal, so a crash loses nothing acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import grpc

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.outbox import ANONYMOUS, automation, new_event, person
from runtime.relay import audit_event
from runtime.tokens import ServiceIdentity
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

log = logging.getLogger(__name__)
MAX_QUEUED = 10_000
BATCH = 500
RETRY_MAX_S = 30.0
SOURCE = "gateway"


class RefusalReporter:
    def __init__(
        self,
        audit: audit_grpc.AuditServiceAsyncStub,
        identity: ServiceIdentity,
        timeout_s: float,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self._audit, self._identity, self._timeout_s = audit, identity, timeout_s
        self._bound = max_queued
        self._queue: deque[dict[str, Any]] = deque(maxlen=max_queued)
        self._dropped = 0
        self._wake = asyncio.Event()

    def report(
        self, principal: Principal | None, method: str, path: str, status: int, reason: str
    ) -> None:
        """Queues one refusal; never blocks the request and never raises."""
        if len(self._queue) == self._bound:
            self._dropped += 1  # deque drops the oldest on append
        self._queue.append(
            new_event(
                source=SOURCE,
                actor=person(principal) if principal else ANONYMOUS,
                action="gateway.access.denied",
                target=f"route {method} {path}",
                payload={"method": method, "path": path, "status": status, "reason": reason},
                outcome="denied",
            )
        )
        self._wake.set()

    async def run(self) -> None:
        delay = 0.5
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue or self._dropped:
                try:
                    await self._send_batch()
                    delay = 0.5
                except grpc.aio.AioRpcError as exc:
                    log.warning("audit unreachable for refusals (%s); retrying", exc.code().name)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_S)

    async def _send_batch(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
        dropped, self._dropped = self._dropped, 0
        events = batch + ([_dropped_event(dropped, self._bound)] if dropped else [])
        try:
            await self._audit.AppendEvents(
                audit_pb.AppendEventsRequest(events=[audit_event(e) for e in events]),
                timeout=self._timeout_s,
                metadata=bearer(self._identity.token("audit")),
            )
        except grpc.aio.AioRpcError:
            # Back to the front, oldest first; what no longer fits (the newest) is counted.
            overflow = max(0, len(self._queue) + len(batch) - self._bound)
            self._queue.extendleft(reversed(batch))
            self._dropped += dropped + overflow
            raise

    async def drain(self, timeout_s: float = 2.0) -> None:
        """On shutdown: one last attempt to send what is queued, bounded in time."""
        with contextlib.suppress(grpc.aio.AioRpcError, TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._queue:
                    await self._send_batch()


def _dropped_event(count: int, bound: int) -> dict[str, Any]:
    return new_event(
        source=SOURCE,
        actor=automation(SOURCE, ""),
        action="gateway.access.denied.dropped",
        target="gateway",
        payload={"dropped": count, "queue_bound": bound},
        outcome="denied",
    )
