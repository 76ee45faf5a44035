"""Refuses request bodies over settings.max_body_bytes with 413, whether the size is declared
(Content-Length) or only discovered while the body streams in (chunked uploads).

The refusal comes when the body is read, not when the request arrives: a protected route reads
its body only once the caller is admitted (gateway.guard), so a caller without a token or
without the role gets 401 or 403 whatever they send, and a route that takes no body never reads
one, so it ignores any body, as it does a small one."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ApiError


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "BODY_TOO_LARGE", f"request body exceeds {limit} bytes")


class BodyLimit:
    """Pure ASGI middleware. A body declared too large raises BodyTooLarge from the first
    `receive`, before a byte of it is read; a streamed body that outgrows the limit raises it
    from the `receive` that crosses it. FastAPI re-raises HTTPExceptions met while reading the
    body, so the app's exception handler answers it before any response has started."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive, _content_length(scope)), send)

    def _counting(self, receive: Receive, declared: int | None) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if declared is not None and declared > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
