"""Every request the gateway refuses (401 or 403) is audited, like the refusals of the
services' own guards, per source and window (runtime.refusals): a source's first refusal of
each route (up to five routes a window) is a `gateway.access.denied` event, the rest of its
window one `gateway.access.denied.aggregated` event with their count (and sources past the
bound one `gateway.access.denied.overflow`). A source is the caller's subject for a 403 and
the client address of the connection for a 401. Path, method, reason and subject are clipped.

The gateway owns no database, so it has no outbox: events wait in a bounded in-memory queue
and a background task sends them to the audit service in batches, retrying with backoff while
audit is away; the same task closes the windows. The bound matters: a flood of bad requests
must not grow memory without limit. When the queue is full the oldest events are dropped and
the refusals they stood for counted, and the count itself is audited
(`gateway.access.denied.dropped`), so the log says that it is incomplete and by how much.
Nobody was told "recorded" about a refusal, so a crash loses nothing acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import grpc

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.clipping import clip
from runtime.outbox import ANONYMOUS, automation, new_event, person, refusal_actor
from runtime.refusal_hook import clipped
from runtime.refusals import DEFAULT_REFUSALS, RefusalSettings, RefusalWindows, source_of
from runtime.relay import audit_event
from runtime.tokens import ServiceIdentity
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

log = logging.getLogger(__name__)
MAX_QUEUED = 10_000
BATCH = 500
RETRY_MAX_S = 30.0
SOURCE = "gateway"


Queued = tuple[int, dict[str, Any]]  # (refusals the event stands for, the event)


class RefusalReporter:
    def __init__(
        self,
        audit: audit_grpc.AuditServiceAsyncStub,
        identity: ServiceIdentity,
        timeout_s: float,
        max_queued: int = MAX_QUEUED,
        settings: RefusalSettings = DEFAULT_REFUSALS,
    ) -> None:
        self._audit, self._identity, self._timeout_s = audit, identity, timeout_s
        self._bound = max_queued
        self._queue: deque[Queued] = deque()
        self._dropped = 0
        self._wake = asyncio.Event()
        self.windows: RefusalWindows[Principal | None] = RefusalWindows(settings)

    def report(
        self,
        principal: Principal | None,
        method: str,
        path: str,
        status: int,
        reason: str,
        peer: str = "",
    ) -> None:
        """Notes one refusal; never blocks the request and never raises. `peer`: the client
        address, which tells anonymous callers apart."""
        caller, method, path, reason = clipped(principal), clip(method), clip(path), clip(reason)
        target = clip(f"route {method} {path}")
        source = source_of(caller.subject if caller else None, peer)
        if self.windows.note(source, caller, target, reason):
            payload = {"method": method, "path": path, "status": status, "reason": reason}
            actor = person(caller) if caller else ANONYMOUS
            self._enqueue(1, _denied(actor, "gateway.access.denied", target, payload))
        self._wake.set()

    async def run(self) -> None:
        delay = 0.5
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.windows.next_close_in()):
                    await self._wake.wait()
            self._wake.clear()
            self._close_windows()
            while self._queue or self._dropped:
                try:
                    await self._send_batch()
                    delay = 0.5
                except grpc.aio.AioRpcError as exc:
                    log.warning("audit unreachable for refusals (%s); retrying", exc.code().name)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_S)

    def _close_windows(self, everything: bool = False) -> None:
        for tally in self.windows.closed(everything):
            action, target, payload = tally.event(SOURCE, self.windows.settings)
            self._enqueue(
                tally.count, _denied(refusal_actor(tally, SOURCE), action, target, payload)
            )

    def _enqueue(self, weight: int, event: dict[str, Any]) -> None:
        if len(self._queue) == self._bound:
            self._dropped += self._queue.popleft()[0]
        self._queue.append((weight, event))

    async def _send_batch(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
        dropped, self._dropped = self._dropped, 0
        events = [event for _, event in batch]
        events += [_dropped_event(dropped, self._bound)] if dropped else []
        try:
            await self._audit.AppendEvents(
                audit_pb.AppendEventsRequest(events=[audit_event(e) for e in events]),
                timeout=self._timeout_s,
                metadata=bearer(self._identity.token("audit")),
            )
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            # Back to the front, oldest first; what no longer fits (the newest) is counted.
            # Cancelled (the gateway stopping): drain sends them again, and audit ignores
            # an event id it already has.
            self._queue.extendleft(reversed(batch))
            while len(self._queue) > self._bound:
                dropped += self._queue.pop()[0]
            self._dropped += dropped
            raise

    async def drain(self, timeout_s: float = 2.0) -> None:
        """On shutdown: one last attempt to send what is queued and what the windows still
        open counted, bounded in time."""
        self._close_windows(everything=True)
        with contextlib.suppress(grpc.aio.AioRpcError, TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._queue or self._dropped:
                    await self._send_batch()


def _denied(
    actor: dict[str, Any], action: str, target: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return new_event(
        source=SOURCE, actor=actor, action=action, target=target, payload=payload, outcome="denied"
    )


def _dropped_event(count: int, bound: int) -> dict[str, Any]:
    return new_event(
        source=SOURCE,
        actor=automation(SOURCE, ""),
        action="gateway.access.denied.dropped",
        target="gateway",
        payload={"dropped": count, "queue_bound": bound},
        outcome="denied",
    )
