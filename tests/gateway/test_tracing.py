from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.gateway.conftest import Gateway, running_gateway
from tests.keys import Keys

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
async def traced_gateway(
    keys: Keys,
) -> AsyncIterator[Gateway]:
    """A gateway with a tracer provider and its channels opened with the gRPC client
    instrumentation on, as in `python -m gateway`; the instrumentation is removed afterwards."""
    instrumentor = GrpcAioInstrumentorClient()  # type: ignore[no-untyped-call]
    already = instrumentor.is_instrumented_by_opentelemetry
    if not already:
        instrumentor.instrument()
    try:
        async with running_gateway(keys, TracerProvider()) as gateway:
            yield gateway
    finally:
        if not already:
            instrumentor.uninstrument()


async def test_the_callers_trace_continues_into_the_grpc_call(traced_gateway: Gateway) -> None:
    headers = {
        **traced_gateway.auth("viewer"),
        "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
    }

    response = await traced_gateway.client.get("/incidents", headers=headers)

    assert response.status_code == 200
    call = traced_gateway.recorder.only("ListIncidents")
    assert TRACE_ID in call.metadata["traceparent"]


async def test_one_server_span_per_request_named_by_its_route_and_none_for_probes(
    keys: Keys,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with running_gateway(keys, provider) as gateway:
        headers = {**gateway.auth("viewer"), "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
        assert (await gateway.client.get("/incidents", headers=headers)).status_code == 200
        assert (await gateway.client.get("/healthz")).status_code == 200

    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /incidents"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/incidents"
    assert span.attributes["http.response.status_code"] == 200
