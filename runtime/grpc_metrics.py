"""Request rate and latency of every RPC a service serves, as one OpenTelemetry histogram
(`rpc.server.duration`, milliseconds, by method and status code; its count is the request
rate). The OpenTelemetry gRPC instrumentation records spans only, so this interceptor measures.
It sits outside the guard, so refused calls are counted with their status too."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import metrics

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Any]


class RpcMetrics(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self) -> None:
        meter = metrics.get_meter("tradeops.rpc")
        self._duration = meter.create_histogram(
            "rpc.server.duration", unit="ms", description="Time to answer one RPC, by outcome"
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return handler
        method: str = details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _record(self, method: str, started: float, context: Any) -> None:
        code = context.code()
        status = code.name if isinstance(code, grpc.StatusCode) else "OK"
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._duration.record(elapsed_ms, {"rpc.method": method, "rpc.grpc.status_code": status})

    def _unary(self, inner: Handler, method: str) -> Handler:
        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            try:
                return await inner(request, context)
            finally:
                self._record(method, started, context)

        return behavior

    def _stream(self, inner: Handler, method: str) -> Handler:
        async def behavior(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            started = time.perf_counter()
            try:
                async for item in inner(request, context):
                    yield item
            finally:
                self._record(method, started, context)

        return behavior
