"""Fake peers: every unary method of a service answers a canned message (or the failure a test
asked for), every server-streaming one its canned messages (failing after some, if asked), and
each records what it received. Served by the shared runtime, so the Guard checks the
forwarded token exactly as a real service would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from runtime.auth import ANYONE, SERVICE, TokenVerifier
from runtime.grpc_server import Running, ServiceSpec, start
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb
from tradeops.agent.v1 import probe_service_pb2 as probe_pb
from tradeops.agent.v1 import remediation_service_pb2 as remediation_pb
from tradeops.agent.v1 import trigger_service_pb2 as trigger_pb
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.ops.v1 import ops_service_pb2 as ops_pb

# Peer name -> the services its process serves (the agent process serves three).
SERVICES: Mapping[str, tuple[ServiceDescriptor, ...]] = {
    "agent": (
        agent_pb.DESCRIPTOR.services_by_name["AgentService"],
        remediation_pb.DESCRIPTOR.services_by_name["RemediationService"],
        compliance_pb.DESCRIPTOR.services_by_name["ComplianceService"],
        probe_pb.DESCRIPTOR.services_by_name["ProbeService"],
        trigger_pb.DESCRIPTOR.services_by_name["TriggerService"],
    ),
    "ops": (ops_pb.DESCRIPTOR.services_by_name["OpsService"],),
    "audit": (audit_pb.DESCRIPTOR.services_by_name["AuditService"],),
    "export": (export_pb.DESCRIPTOR.services_by_name["ExportService"],),
}


@dataclass(frozen=True)
class Call:
    method: str
    request: Any
    metadata: Mapping[str, str]
    time_remaining: float | None


@dataclass
class Recorder:
    """What the fakes received, what they answer and how they fail, by method name."""

    calls: list[Call] = field(default_factory=list)
    replies: dict[str, Message] = field(default_factory=dict)
    failures: dict[str, tuple[grpc.StatusCode, str]] = field(default_factory=dict)
    # What the gateway's refusal reporter appended to the audit log (kept out of `calls`).
    appended: list[Any] = field(default_factory=list)
    # Server-streaming methods: the messages each sends (one empty message when not set), and
    # how many it sends before failing as `failures` says (0: fails before the first).
    streams: dict[str, Sequence[Message]] = field(default_factory=dict)
    fail_after: dict[str, int] = field(default_factory=dict)

    def only(self, method: str) -> Call:
        assert [c.method for c in self.calls] == [method], self.calls
        return self.calls[0]


def _record(method: MethodDescriptor, recorder: Recorder, request: Message, context: Any) -> None:
    metadata = {key: str(value) for key, value in context.invocation_metadata() or ()}
    if method.name != "AppendEvents":  # the gateway's refusals, kept in `appended`
        recorder.calls.append(Call(method.name, request, metadata, context.time_remaining()))


def _streaming(method: MethodDescriptor, recorder: Recorder) -> Callable[..., Any]:
    reply_class = message_factory.GetMessageClass(method.output_type)

    async def answer(
        request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Message]:
        _record(method, recorder, request, context)
        failure = recorder.failures.get(method.name)
        cut = recorder.fail_after.get(method.name, 0) if failure else None
        for sent, reply in enumerate(recorder.streams.get(method.name) or [reply_class()]):
            if sent == cut and failure:
                await context.abort(*failure)
            yield reply
        if failure:
            await context.abort(*failure)

    return answer


def _behaviour(method: MethodDescriptor, recorder: Recorder) -> Callable[..., Any]:
    reply_class = message_factory.GetMessageClass(method.output_type)

    async def answer(request: Message, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        _record(method, recorder, request, context)
        if method.name in recorder.failures:
            code, details = recorder.failures[method.name]
            await context.abort(code, details)
        if isinstance(request, audit_pb.AppendEventsRequest):
            # Idempotent on event_id, as the audit service is: the gateway sends a batch again
            # when it was stopped mid-call, and the log keeps each event once.
            known = {event.event_id for event in recorder.appended}
            recorder.appended.extend(e for e in request.events if e.event_id not in known)
        return recorder.replies.get(method.name) or reply_class()

    return answer


def _handler(service: ServiceDescriptor, recorder: Recorder) -> grpc.GenericRpcHandler[Any, Any]:
    handlers = {
        method.name: _method_handler(method, recorder)
        for method in service.methods
        if not method.client_streaming
    }
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def _method_handler(method: MethodDescriptor, recorder: Recorder) -> Any:
    wire = {
        "request_deserializer": message_factory.GetMessageClass(method.input_type).FromString,
        "response_serializer": lambda message: message.SerializeToString(),
    }
    if method.server_streaming:
        return grpc.unary_stream_rpc_method_handler(_streaming(method, recorder), **wire)
    return grpc.unary_unary_rpc_method_handler(_behaviour(method, recorder), **wire)


async def start_fake(name: str, recorder: Recorder, verifier: TokenVerifier) -> Running:
    services = SERVICES[name]
    handlers = [_handler(service, recorder) for service in services]
    spec = ServiceSpec(
        register=lambda server: server.add_generic_rpc_handlers(handlers),
        service_names=[service.full_name for service in services],
        rbac={
            f"/{service.full_name}/{method.name}": ANYONE | {SERVICE}
            for service in services
            for method in service.methods
        },
    )
    return await start(spec, "127.0.0.1:0", verifier)
