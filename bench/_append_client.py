"""The AppendEvents client of bench/audit_append.py; import-only (`make bench` skips bench/_*.py).

Requests are built and serialised before the clock starts, and sent as bytes, so the figure is
the service's cost and not this client's protobuf work."""

from __future__ import annotations

import asyncio
import time
from typing import TypeAlias

import grpc
from _common import OCCURRED_AT, fields
from _service import Served

from runtime.clients import bearer, open_channel
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.common.v1 import common_pb2

METHOD = "/tradeops.audit.v1.AuditService/AppendEvents"
Send: TypeAlias = "grpc.aio.UnaryUnaryMultiCallable[bytes, pb.AppendEventsResponse]"


def message(index: int) -> pb.AuditEvent:
    found = fields(index)
    actor = common_pb2.Actor(subject=str(found.actor["subject"]), roles=["ops"], kind="person")
    sent = pb.AuditEvent(
        event_id=found.event_id,
        actor=actor,
        action=found.action,
        target=found.target,
        outcome="success",
        trace_id=found.trace_id,
        payload_json=found.payload_json,
        source="ops",
    )
    sent.occurred_at.FromDatetime(OCCURRED_AT)
    return sent


def requests(first: int, count: int, batch: int) -> list[bytes]:
    return [
        pb.AppendEventsRequest(
            events=[message(i) for i in range(start, min(start + batch, first + count))]
        ).SerializeToString()
        for start in range(first, first + count, batch)
    ]


def _stub(channel: grpc.aio.Channel) -> Send:
    # No request serialiser: the requests are serialised up front.
    return channel.unary_unary(METHOD, None, pb.AppendEventsResponse.FromString)


async def _call(send: Send, token: str, body: bytes, deadline_s: float) -> None:
    reply: pb.AppendEventsResponse = await send(body, metadata=bearer(token), timeout=deadline_s)
    if any(r.duplicate for r in reply.results) or not reply.results:
        raise RuntimeError("the service answered with duplicates or nothing")


async def throughput(served: Served, *, first: int, count: int, callers: int, batch: int) -> float:
    """Events per second for `count` events sent by `callers` concurrent callers."""
    bodies = iter(requests(first, count, batch))
    async with open_channel(served.address) as channel:
        send = _stub(channel)

        async def caller() -> None:
            for body in bodies:
                await _call(send, served.writer, body, 60.0)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        return count / (time.perf_counter() - started)


async def latency(
    served: Served, *, first: int, seconds: float, every_s: float, batch: int
) -> list[float]:
    """Open loop: one call every `every_s`, each timed from when it was due to be sent, so a
    slow answer cannot delay (and hide) the calls behind it."""
    calls = int(seconds / every_s)
    bodies = requests(first, calls * batch, batch)
    spans: list[float] = []
    async with open_channel(served.address) as channel:
        send = _stub(channel)

        async def timed(due: float, body: bytes) -> None:
            await _call(send, served.writer, body, 10.0)
            spans.append(time.perf_counter() - due)

        start, tasks = time.perf_counter(), []
        for n, body in enumerate(bodies):
            due = start + n * every_s
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(timed(due, body)))
        await asyncio.gather(*tasks)
    return spans
