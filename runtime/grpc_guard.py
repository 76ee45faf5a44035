"""The one server interceptor every service runs: it authenticates the caller from the
`authorization` metadata, checks the method against the service's RBAC table (methods missing
from the table are refused: fail closed), exposes the caller through
runtime.auth.current_principal() (and the peer, for the refusal hook, through current_peer()),
and maps domain errors to gRPC status codes (the only place that mapping exists on the server
side)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

import grpc
import psycopg

from runtime import trace_context
from runtime.auth import Principal, TokenVerifier, set_current_principal
from runtime.errors import (
    Conflict,
    DataLoss,
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

# Probes and tooling must work without a token.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

STATUS_FOR: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DataLoss: grpc.StatusCode.DATA_LOSS,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}

Rbac = Mapping[str, frozenset[str]]

# The database refused or cut the connection (down, restarting, failing over). SQLAlchemy raises
# its own wrapper `from` these. The caller may retry: UNAVAILABLE, not an internal error.
DATABASE_DOWN = (psycopg.OperationalError, psycopg.InterfaceError)
DATABASE_DOWN_MESSAGE = "the database is unavailable; retry later"


def database_down(exc: BaseException) -> bool:
    """Whether exc is, or was raised from, a lost or refused database connection."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DATABASE_DOWN):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _abort_unexpected(context: grpc.aio.ServicerContext[Any, Any], exc: Exception) -> None:
    if database_down(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        await context.abort(grpc.StatusCode.UNAVAILABLE, DATABASE_DOWN_MESSAGE)
    log.exception("unhandled error", exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


def status_for(exc: DomainError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return grpc.StatusCode.UNKNOWN


# The call's metadata, and how to learn its peer (asked only when the call is refused).
Checker = Callable[[Mapping[str, str], Callable[[], str]], Awaitable[Principal]]
# Records a refused call (method, the caller when known, why) as an audit event.
RefusalHook = Callable[[str, Principal | None, str], Awaitable[None]]
# The calling peer ("ipv4:10.0.0.7:51234"), for a hook that tells anonymous callers apart.
_peer: ContextVar[str] = ContextVar("peer", default="")


def current_peer() -> str:
    return _peer.get()


class Guard(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(
        self, verifier: TokenVerifier, rbac: Rbac, on_refused: RefusalHook | None = None
    ) -> None:
        self._verifier, self._rbac, self._on_refused = verifier, rbac, on_refused

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        check = self._checker(method)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, check),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _stream(handler.unary_stream, check),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _checker(self, method: str) -> Checker:
        async def check(metadata: Mapping[str, str], peer: Callable[[], str]) -> Principal:
            principal: Principal | None = None
            try:
                principal = await self._verifier.verify_header(metadata.get("authorization"))
                principal.require(self._rbac.get(method, frozenset()))
            except (Unauthenticated, PermissionDenied) as refusal:
                _peer.set(peer() or "")
                await self._record_refusal(method, principal, refusal)
                raise
            set_current_principal(principal)
            return principal

        return check

    async def _record_refusal(
        self, method: str, principal: Principal | None, refusal: DomainError
    ) -> None:
        if self._on_refused is None:
            return
        try:
            await self._on_refused(method, principal, str(refusal))
        except Exception:
            # The caller is refused either way; a failed record must not turn into a 500.
            log.exception("could not record the refusal of %s", method)


def _unary(inner: Any, check: Checker) -> Any:
    async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = _metadata(context)
        try:
            await check(metadata, context.peer)
            with trace_context.incoming(metadata):
                return await inner(request, context)
        except DomainError as exc:
            await context.abort(status_for(exc), str(exc))
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_unexpected(context, exc)

    return behavior


def _stream(inner: Any, check: Checker) -> Any:
    async def behavior(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        metadata = _metadata(context)
        try:
            await check(metadata, context.peer)
            with trace_context.incoming(metadata):
                async for item in inner(request, context):
                    yield item
        except DomainError as exc:
            await context.abort(status_for(exc), str(exc))
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_unexpected(context, exc)

    return behavior


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    return dict(context.invocation_metadata() or ())
