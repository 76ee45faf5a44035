"""The inbox's live feed: what a console route answering `text/event-stream` sends, relayed from
the audit log's new records (AuditService.WatchRecords, the ops service's action events: target
`action/<id>`, action `ops.action.*`, source ops), called with the signed-in person's own token
(audit checks it as for ListRecords). The frames, in the HTML standard's server-sent events
format:

- `retry: 3000` first, the browser's delay before it reconnects by itself;
- `event: action`, `data: {"action_id", "event", "seq"}`: that action changed (`event` is the
  record's action, `ops.action.approved` say; `seq` its place in the log), to fetch again;
- `event: resync`, `data: {"seq"}`: changes may have been missed, read again everything shown.
  The first comes as soon as the audit stream is open (the page was rendered before it), then
  whenever audit says so (this reader fell behind, or the records since the last one seen can
  no longer be replayed). A mere reconnection needs none: the relay asks audit for the records
  after the last seq it heard, so nothing is missed;
- `: keepalive` comments whenever nothing else was sent for 15 s, so proxies keep the line open;
- `event: error`, `data: {"error": {"code", "message"}}`, as the gateway's JSON errors, when
  audit refuses the caller for good (an expired token, a role taken away): the stream ends, and
  the browser's reconnection meets the gateway's own authentication.

An audit stream that ends, fails or stays silent for `stale_s` (audit sends a heartbeat every
10 s) is opened again after a backoff (runtime.backoff), whichever replica answers. The frames
end when `disconnected()` (starlette's Request.is_disconnected) says the browser left, asked
every `poll_s` while nothing happens. While the browser reads slowly nothing is read from audit:
gRPC's flow control holds audit back, and audit keeps a bounded backlog for it, then a resync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import grpc

from gateway.peers import Peers
from runtime.backoff import Backoff
from tradeops.audit.v1 import audit_service_pb2 as pb

Metadata = Sequence[tuple[str, str]]
Disconnected = Callable[[], Awaitable[bool]]
Notice = pb.RecordNotice
TARGET, ACTIONS, SOURCE = "action/", "ops.action.", "ops"
KEEPALIVE = ": keepalive\n\n"
# Refusals that another try meets again: the browser is told, and the frames end.
FINAL = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


@dataclass(frozen=True)
class Timing:
    keepalive_s: float = 15.0
    stale_s: float = 35.0  # three of audit's heartbeats missed, and a margin
    poll_s: float = 2.0
    retry_ms: int = 3000
    reconnect: Backoff = field(default_factory=lambda: Backoff(0.5, cap_s=15.0, floor=0.5))


def action_events(
    peers: Peers, metadata: Metadata, disconnected: Disconnected, timing: Timing | None = None
) -> AsyncIterator[str]:
    """The frames to send the browser, one string each, until it leaves. `metadata` is the
    caller's (runtime.clients.bearer(token))."""
    return _Relay(peers, metadata, disconnected, timing or Timing()).frames()


def frame(event: str, data: Mapping[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def relayed(notice: Notice, opening: bool) -> str | None:
    """The frame for one message of WatchRecords (`opening`: of a stream that did not resume
    from a seq: its STARTED is the first resync), or None."""
    if notice.type == Notice.TYPE_RESYNC or (notice.type == Notice.TYPE_STARTED and opening):
        return frame("resync", {"seq": notice.through_seq})
    event = notice.record.event
    if notice.type == Notice.TYPE_RECORD and event.source == SOURCE:
        action_id = event.target.removeprefix(TARGET)
        return frame(
            "action", {"action_id": action_id, "event": event.action, "seq": notice.record.seq}
        )
    return None


class _Relay:
    def __init__(
        self, peers: Peers, metadata: Metadata, disconnected: Disconnected, timing: Timing
    ) -> None:
        self._peers, self._metadata, self._timing = peers, metadata, timing
        self._disconnected = disconnected
        self._sent = 0.0  # when the last frame went out, on the loop's clock
        self._failures = 0
        self._after: int | None = None  # the last through_seq heard: where the next resumes
        self._ended = False  # the browser left, or audit refused it for good

    async def frames(self) -> AsyncIterator[str]:
        yield self._sending(f"retry: {self._timing.retry_ms}\n\n")
        while not self._ended:
            async with aclosing(self._watch()) as relayed_frames:
                async for each in relayed_frames:
                    yield self._sending(each)
            if self._ended:
                return
            async with aclosing(self._pause(self._timing.reconnect.wait(self._failures))) as idle:
                async for each in idle:
                    yield self._sending(each)
            self._failures += 1

    async def _watch(self) -> AsyncGenerator[str]:
        """One WatchRecords call, relayed until it ends, fails or falls silent. A read is never
        cancelled by a timeout (that would cancel the call): it is waited for again."""
        asked = pb.WatchRecordsRequest(target_prefix=TARGET, action_prefix=ACTIONS)
        if self._after is not None:
            asked.after_seq = self._after
        call = self._peers.audit.WatchRecords(asked, metadata=self._metadata)
        opening, reading = self._after is None, asyncio.ensure_future(call.read())
        heard = self._now()
        try:
            while not await self._left():
                done, _ = await asyncio.wait({reading}, timeout=self._tick())
                if not done:
                    if self._now() - heard > self._timing.stale_s:
                        return
                    if self._keepalive_due():
                        yield KEEPALIVE
                    continue
                notice = reading.result()
                if not isinstance(notice, Notice):
                    return  # the stream ended (audit stopped gracefully)
                heard, self._failures, self._after = self._now(), 0, notice.through_seq
                reading = asyncio.ensure_future(call.read())
                if (text := relayed(notice, opening)) is not None:
                    yield text
                opening = False
        except grpc.aio.AioRpcError as exc:
            if exc.code() in FINAL:
                self._ended = True
                refusal = {"code": exc.code().name, "message": exc.details() or ""}
                yield frame("error", {"error": refusal})
        finally:
            reading.cancel()
            call.cancel()

    async def _pause(self, seconds: float) -> AsyncGenerator[str]:
        """Waits `seconds` before the next call, keeping the browser's line alive meanwhile."""
        until = self._now() + seconds
        while self._now() < until and not await self._left():
            await asyncio.sleep(min(self._tick(), max(0.0, until - self._now())))
            if self._keepalive_due():
                yield KEEPALIVE

    async def _left(self) -> bool:
        if not self._ended and await self._disconnected():
            self._ended = True
        return self._ended

    def _sending(self, text: str) -> str:
        self._sent = self._now()
        return text

    def _keepalive_due(self) -> bool:
        return self._now() - self._sent >= self._timing.keepalive_s

    def _tick(self) -> float:
        due = self._timing.keepalive_s - (self._now() - self._sent)
        return max(0.01, min(self._timing.poll_s, due))

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
