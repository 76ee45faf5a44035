from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient

from runtime.settings import AuthSettings
from tests.gateway.conftest import Gateway, running_gateway

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
async def traced_gateway(
    auth_settings: AuthSettings, token_for: Callable[..., str]
) -> AsyncIterator[Gateway]:
    """A gateway whose channels are opened with the gRPC client instrumentation on, as in
    `python -m gateway`; the instrumentation is removed afterwards."""
    instrumentor = GrpcAioInstrumentorClient()  # type: ignore[no-untyped-call]
    already = instrumentor.is_instrumented_by_opentelemetry
    if not already:
        instrumentor.instrument()
    try:
        async with running_gateway(auth_settings, token_for) as gateway:
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
