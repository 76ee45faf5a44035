"""How a peer's refusal reaches our caller: a fault of the caller's request keeps its meaning
(the export is recorded FAILED first, then the caller sees the matching status); anything else
means the peer is unavailable. call_peer makes one unary call with the caller's token under
that rule; only callers that pass `not_found` turn the peer's NOT_FOUND into NotFound."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.errors import (
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)

T = TypeVar("T")
AUDIT = "the audit service"
_CALLER_FAULTS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def domain_error(exc: grpc.aio.AioRpcError, peer: str = AUDIT) -> DomainError:
    code = exc.code()
    error = _CALLER_FAULTS.get(code, Unavailable)
    return error(f"reading from {peer} failed: {code.name}: {exc.details()}")


async def call_peer(
    method: Callable[..., Awaitable[T]],
    request: Message,
    *,
    caller: Principal,
    timeout_s: float,
    peer: str = AUDIT,
    not_found: Callable[[str], str] | None = None,
) -> T:
    """`not_found` gives the NotFound message from the peer's details."""
    try:
        return await method(request, timeout=timeout_s, metadata=bearer(caller.token))
    except grpc.aio.AioRpcError as exc:
        if not_found is not None and exc.code() is grpc.StatusCode.NOT_FOUND:
            raise NotFound(not_found(str(exc.details()))) from None
        raise domain_error(exc, peer) from None


def message_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)
