"""Trace context carried by hand over gRPC (runtime.trace_context), in a process that records
no span: the handler runs in the caller's trace, and nothing is added when not carrying."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from runtime import trace_context
from runtime.auth import ANYONE, TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.grpc_server import Running, ServiceSpec, start
from runtime.settings import AuthSettings


class Echo:
    """Answers with the trace id current in the handler (32 hex digits, or "" when none)."""

    async def trace_id(self, request: bytes, context: Any) -> bytes:
        span_context = trace.get_current_span().get_span_context()
        return format(span_context.trace_id, "032x").encode() if span_context.is_valid else b""

    def register(self, server: grpc.aio.Server) -> None:
        handler = grpc.unary_unary_rpc_method_handler(self.trace_id)
        generic = grpc.method_handlers_generic_handler("t.Echo", {"TraceId": handler})
        server.add_generic_rpc_handlers((generic,))


@pytest.fixture
async def echo(auth_settings: AuthSettings) -> AsyncIterator[Running]:
    spec = ServiceSpec(Echo().register, ["t.Echo"], {"/t.Echo/TraceId": ANYONE})
    running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    yield running
    await running.stop(0)


async def _traced_call(port: int, token: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Calls TraceId inside a new (unrecorded) trace: (its trace id, the answer, metadata)."""
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t")
    with tracer.start_as_current_span("caller") as span:
        metadata = bearer(token)
        async with open_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/t.Echo/TraceId", None, None)
            answer: bytes = await call(b"", metadata=metadata, timeout=5)
        return format(span.get_span_context().trace_id, "032x"), answer.decode(), metadata


async def test_carried_the_handler_runs_in_the_callers_trace(
    echo: Running, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_context, "_carrying", True)
    caller, seen, metadata = await _traced_call(echo.port, token_for("vera", "viewer"))
    assert seen == caller
    assert [name for name, _ in metadata] == ["authorization", "traceparent"]
    assert trace.get_current_span().get_span_context().is_valid is False  # restored after


async def test_not_carried_nothing_is_added_or_read(
    echo: Running, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_context, "_carrying", False)
    _, seen, metadata = await _traced_call(echo.port, token_for("vera", "viewer"))
    assert seen == ""
    assert [name for name, _ in metadata] == ["authorization"]
