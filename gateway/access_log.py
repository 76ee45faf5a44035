"""One log line per request (method, path, status, milliseconds), written inside the request's
span so the JSON line carries its trace id: uvicorn's own access log runs outside the app and
cannot. Query strings are left out (they are not needed to follow a request and could carry
data that does not belong in logs)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("gateway.access")
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


class AccessLog:
    """Pure ASGI middleware (cheaper per request than BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed_ms)
