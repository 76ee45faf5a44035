"""The FastAPI application: `create_app(settings)` wires auth, RBAC, errors, limits and routes;
the lifespan opens one gRPC channel per peer and closes them on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry.trace import TracerProvider
from starlette.types import Scope

from gateway import console, errors, routes
from gateway.access_log import QUIET_PATHS, AccessLog
from gateway.contract import complete
from gateway.contract.kinds import KindsOnFetch
from gateway.contract.kinds import declare as declare_kinds
from gateway.deps import document_idempotency
from gateway.limits import BodyLimit
from gateway.paths import PathMethods
from gateway.peers import Peers
from gateway.rbac import authorize, document
from gateway.refusals import RefusalReporter
from gateway.rest_schema import add_components
from runtime import collector
from runtime.auth import TokenVerifier
from runtime.settings import GatewaySettings
from runtime.telemetry import tracing_enabled
from runtime.tokens import ServiceIdentity

DESCRIPTION = (
    "REST for people and tools. Send `Authorization: Bearer <jwt>`; each route lists the roles "
    'it allows. Errors are `{"error": {"code", "message"}}`.'
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    peers = Peers.open(settings.peers)
    app.state.peers = peers
    identity = ServiceIdentity(settings.auth, "gateway")
    app.state.identity = identity
    refusals = RefusalReporter(
        peers.audit, identity, settings.rpc_timeout_s, settings=settings.refusals
    )
    app.state.refusals = refusals
    sender = asyncio.create_task(refusals.run())
    collector.settle()
    try:
        yield
    finally:
        sender.cancel()
        await refusals.drain()
        await peers.close()


def create_app(settings: GatewaySettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    """`tracer_provider`: the global one (runtime.telemetry.setup_tracing) unless given."""
    app = FastAPI(
        title="tradeops",
        description=DESCRIPTION,
        version="1",
        lifespan=lifespan,
        # gateway.apidocs serves both, with nothing fetched from outside the machine.
        docs_url=None,
        redoc_url=None,
        telemetry=_telemetry(tracer_provider),
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings.auth)
    errors.install(app)
    app.add_middleware(PathMethods, routes=app.routes)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Added after BodyLimit, so outside it (a refused body is logged too), and inside the
    # request's span, which FastAPI's telemetry opens around the whole app: each line carries
    # its trace id.
    app.add_middleware(AccessLog)
    app.add_middleware(KindsOnFetch, path=app.openapi_url or "")
    for router in routes.PROTECTED:
        app.include_router(
            router, dependencies=[Depends(authorize)], responses=errors.ERROR_RESPONSES
        )
    for router in routes.PUBLIC:
        app.include_router(router)
    console.install(app)
    app.openapi = partial(_openapi, app)  # type: ignore[method-assign]
    return app


def _telemetry(tracer_provider: TracerProvider | None) -> TelemetryConfig:
    """FastAPI's own OpenTelemetry support: one server span per request, continuing the caller's
    W3C trace (the gRPC client instrumentation carries it onward), and the request duration
    histogram, which stays on with tracing off. It takes the route FastAPI matched, where the
    contrib instrumentation matched every request against every route a second time."""
    return {
        "tracer_provider": tracer_provider,
        "tracing": tracing_enabled(),
        "metrics": True,
        "logs": False,  # gateway.errors and the access log write ours
        "operation_spans": False,  # dependencies, endpoint, serialisation: more than they tell
        "exclude": _quiet,
    }


def _quiet(scope: Scope) -> bool:
    return scope.get("path") in QUIET_PATHS


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document (cached on the app) with each operation's roles from the RBAC table,
    the schemas of the replies (gateway.rest_schema), and its errors, examples, rules and links
    (gateway.contract)."""
    if app.openapi_schema is None:
        base = document_idempotency(document(FastAPI.openapi(app)))
        app.openapi_schema = complete(add_components(base))
    return declare_kinds(app.openapi_schema, getattr(app.state, "incident_kinds", ()))
