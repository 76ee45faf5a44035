"""A stand-in audit service for benchmarks of another service; import-only (`make bench` skips
bench/_*.py). It acknowledges every AppendEvents batch, as the audit service does once the batch
commits, so the measured service's outbox relay does its whole deployed work per batch (claim,
send, mark delivered) without the audit service's own cost in the figure. Every other audit
method is UNIMPLEMENTED."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc

from runtime.pgserver import free_port
from tradeops.audit.v1 import audit_service_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["AuditService"].full_name


class Sink:
    def __init__(self) -> None:
        self.events = 0

    async def append(
        self, request: pb.AppendEventsRequest, context: Any
    ) -> pb.AppendEventsResponse:
        first = self.events
        self.events += len(request.events)
        return pb.AppendEventsResponse(
            results=[
                pb.AppendResult(event_id=e.event_id, seq=first + i)
                for i, e in enumerate(request.events)
            ]
        )


@contextlib.asynccontextmanager
async def audit_sink() -> AsyncIterator[tuple[str, Sink]]:
    """(address, sink) of a running stand-in, stopped on exit."""
    sink = Sink()
    handler = grpc.unary_unary_rpc_method_handler(
        sink.append,
        request_deserializer=pb.AppendEventsRequest.FromString,
        response_serializer=pb.AppendEventsResponse.SerializeToString,
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {"AppendEvents": handler}),)
    )
    address = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(address)
    await server.start()
    try:
        yield address, sink
    finally:
        await server.stop(0)
