"""Every error the gateway answers has the body {"error": {"code": ..., "message": ...}}.

This is the one place gRPC status codes become HTTP statuses. The message of a 4xx is the
service's own explanation; a 5xx says which kind of failure happened and nothing about the
internals (peer addresses, connection errors), which go to the log instead."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_STATUS_FOR: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
UPSTREAM_FAILURE = 502

_SERVER_SIDE_MESSAGES = {
    503: "a backing service is unavailable; retry later",
    504: "a backing service did not answer in time",
    502: "a backing service failed",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[dict[str, str]] | None = None


class ErrorBody(BaseModel):
    """Documents the error shape in OpenAPI."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (401, 403, 404, 409, 413, 422, 429, 502, 503, 504)
}


class ApiError(HTTPException):
    """An HTTP error with a machine-readable code, raised by the gateway's own checks."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        fields: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(status, message, dict(headers) if headers else None)
        self.code, self.fields = code, fields


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def rpc_failure(request: Request, exc: grpc.aio.AioRpcError) -> tuple[int, str, str]:
    """A peer's error as the caller may see it: HTTP status, code and message (a 5xx's
    details go to the log only)."""
    code = exc.code()
    status = HTTP_STATUS_FOR.get(code, UPSTREAM_FAILURE)
    message = exc.details() or code.name
    if status >= 500:
        log.warning("%s %s: peer answered %s: %s", request.method, request.url.path, code, message)
        message = _SERVER_SIDE_MESSAGES.get(status, _SERVER_SIDE_MESSAGES[UPSTREAM_FAILURE])
    return status, code.name, message


async def on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, grpc.aio.AioRpcError)
    return error_response(*rpc_failure(request, exc))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = getattr(exc, "code", None) or HTTPStatus(exc.status_code).name
    fields = getattr(exc, "fields", None)
    extra = {"fields": fields} if fields else {}
    return error_response(exc.status_code, code, str(exc.detail), exc.headers, **extra)


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [_describe(error) for error in exc.errors()]
    message = "invalid request: " + "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return error_response(422, "INVALID_ARGUMENT", message, fields=fields)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: JSON like every other error, instead of Starlette's plain-text 500. Starlette
    raises the exception on after this answer, so the server logs it."""
    return error_response(500, "INTERNAL", "the gateway failed; the error is logged")


def _describe(error: Mapping[str, Any]) -> dict[str, str]:
    location: Sequence[str | int] = error.get("loc", ())
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return {"field": "body", "problem": f"malformed JSON at character {location[-1]}: {reason}"}
    return {"field": ".".join(str(part) for part in location), "problem": str(error.get("msg"))}


def install(app: FastAPI) -> None:
    app.add_exception_handler(grpc.aio.AioRpcError, on_rpc_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_unexpected)
