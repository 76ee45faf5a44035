"""How a peer's refusal reaches our caller: a fault of the caller's request keeps its meaning
(the export is recorded FAILED first, then the caller sees the matching status); anything else
means the peer is unavailable."""

from __future__ import annotations

import grpc

from runtime.errors import (
    DomainError,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)

_CALLER_FAULTS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def domain_error(exc: grpc.aio.AioRpcError, peer: str = "the audit service") -> DomainError:
    code = exc.code()
    error = _CALLER_FAULTS.get(code, Unavailable)
    return error(f"reading from {peer} failed: {code.name}: {exc.details()}")
