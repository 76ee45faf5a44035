"""A stand-in audit service for the sign-in tests' gateway, which runs no service: it answers
AppendEvents as the audit log does (each event once; an id it has seen is a duplicate) and
keeps what it got, so a test can see each sign-in audited."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from tradeops.audit.v1 import audit_service_pb2 as pb

METHOD = "/tradeops.audit.v1.AuditService/AppendEvents"


@dataclass
class AuditSink:
    address: str = ""
    events: list[pb.AuditEvent] = field(default_factory=list)

    def append(self, request: pb.AppendEventsRequest, _context: Any) -> pb.AppendEventsResponse:
        seen = {event.event_id for event in self.events}
        results = []
        for event in request.events:
            results.append(
                pb.AppendResult(event_id=event.event_id, duplicate=event.event_id in seen)
            )
            if event.event_id not in seen:
                seen.add(event.event_id)
                self.events.append(event)
        return pb.AppendEventsResponse(results=results)

    def actions(self) -> list[tuple[str, str]]:
        return [(event.action, event.actor.subject) for event in self.events]


@contextmanager
def audit_sink() -> Iterator[AuditSink]:
    sink = AuditSink()
    handler = grpc.method_handlers_generic_handler(
        "tradeops.audit.v1.AuditService",
        {
            "AppendEvents": grpc.unary_unary_rpc_method_handler(
                sink.append,
                request_deserializer=pb.AppendEventsRequest.FromString,
                response_serializer=pb.AppendEventsResponse.SerializeToString,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sink.address = f"127.0.0.1:{port}"
    try:
        yield sink
    finally:
        server.stop(grace=None)
