"""Authentication: `Authorization: Bearer <jwt>` becomes a Principal, or the request gets 401
with a `WWW-Authenticate: Bearer` challenge (RFC 6750)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.errors import ApiError
from gateway.refusals import RefusalReporter
from runtime.auth import Principal, TokenVerifier
from runtime.errors import Unauthenticated

# Declares the scheme in OpenAPI; auto_error=False so the 401 below has the gateway's body.
bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A JWT from `tradeops token`, sent as `Authorization: Bearer <token>`.",
    auto_error=False,
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]

# The scope key of the caller gateway.guard admitted before the body was read.
ADMITTED = "gateway.admitted"


async def authenticate(request: Request, credentials: Credentials) -> Principal:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request.
    admitted: Principal | None = request.scope.get(ADMITTED)
    if admitted is not None:
        return admitted
    if credentials is None:
        report_refusal(request, None, 401, "missing bearer token")
        raise _unauthenticated("missing bearer token", 'Bearer realm="tradeops"')
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify_async(credentials.credentials)
    except Unauthenticated as exc:
        report_refusal(request, None, 401, str(exc))
        raise _unauthenticated(str(exc), 'Bearer realm="tradeops", error="invalid_token"') from None


def report_refusal(request: Request, principal: Principal | None, status: int, reason: str) -> None:
    """Audits a refused request (gateway.refusals); absent only in apps built without it."""
    reporter: RefusalReporter | None = getattr(request.app.state, "refusals", None)
    if reporter is not None:
        path = getattr(request.scope.get("route"), "path_format", request.url.path)
        peer = request.client.host if request.client else ""
        reporter.report(principal, request.method, path, status, reason, peer)


def _unauthenticated(message: str, challenge: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": challenge})
