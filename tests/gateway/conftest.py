"""A gateway wired to fake peers: four in-process gRPC servers on free ports, the app inside its
own lifespan, and an httpx client speaking ASGI to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from gateway.app import create_app
from runtime.auth import TokenVerifier
from runtime.grpc_server import Running
from runtime.refusals import DEFAULT_REFUSALS, RefusalSettings
from runtime.settings import GatewaySettings
from tests.gateway.fakes import SERVICES, Recorder, start_fake
from tests.keys import Keys

MAX_BODY_BYTES = 4096
RPC_TIMEOUT_S = 3.0  # distinct from the default 5, so the deadline seen is ours
LONG_RPC_TIMEOUT_S = 40.0  # likewise distinct from the default 300
# The calls whose work grows with the data get the long deadline (settings.long_rpc_timeout_s).
LONG_CALLS = frozenset(
    {
        "CreateExport",
        "VerifyExports",
        "VerifyExport",
        "RedeliverExport",
        "VerifyChain",
        "ReadExportFile",
    }
)


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    recorder: Recorder
    fakes: dict[str, Running]
    token_for: Callable[..., str]

    def auth(self, *roles: str, subject: str = "") -> dict[str, str]:
        # A service's key speaks only for its own names.
        subject = subject or ("svc:tests" if "service" in roles else "alice")
        return {"Authorization": f"Bearer {self.token_for(subject, *roles)}"}


def assert_forwarded(gateway: Gateway, method: str, headers: dict[str, str]) -> object:
    """The fake got one call, with the caller's own token and its deadline."""
    call = gateway.recorder.only(method)
    assert call.metadata["authorization"] == headers["Authorization"]
    assert call.time_remaining is not None
    deadline = LONG_RPC_TIMEOUT_S if method in LONG_CALLS else RPC_TIMEOUT_S
    assert deadline - 1 < call.time_remaining < deadline + 0.5  # gRPC rounds up
    return call.request


@pytest.fixture
async def gateway(keys: Keys) -> AsyncIterator[Gateway]:
    async with running_gateway(keys) as running:
        yield running


@asynccontextmanager
async def running_gateway(
    keys: Keys,
    tracer_provider: TracerProvider | None = None,
    refusals: RefusalSettings = DEFAULT_REFUSALS,
) -> AsyncIterator[Gateway]:
    recorder = Recorder()
    fakes = {
        name: await start_fake(name, recorder, TokenVerifier(keys.serving(name)))
        for name in SERVICES
    }
    settings = GatewaySettings(
        listen_host="127.0.0.1",
        listen_port=0,
        peers={name: f"127.0.0.1:{fake.port}" for name, fake in fakes.items()},
        auth=keys.serving("gateway"),
        rpc_timeout_s=RPC_TIMEOUT_S,
        max_body_bytes=MAX_BODY_BYTES,
        long_rpc_timeout_s=LONG_RPC_TIMEOUT_S,
        refusals=refusals,
    )
    app = create_app(settings, tracer_provider)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway"
            ) as client,
        ):
            yield Gateway(app, client, recorder, fakes, keys.token)
    finally:
        for fake in fakes.values():
            await fake.stop(0)
