"""What a route needs to call a service: the stubs, the caller's bearer token as metadata,
and the deadline (settings.rpc_timeout_s). Depending on it authenticates and authorizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from google.protobuf.message import Message

from gateway.errors import ApiError
from gateway.peers import Peers
from gateway.rbac import authorize
from gateway.rest_json import to_rest
from runtime.auth import Principal
from runtime.clients import bearer
from runtime.idempotency import KEY_PATTERN, KEY_RULE

Json = dict[str, Any]


@dataclass(frozen=True)
class Rpc:
    peers: Peers
    metadata: tuple[tuple[str, str], ...]
    timeout: float
    long_timeout: float  # for calls whose work grows with the data (settings.long_rpc_timeout_s)


async def rpc(request: Request, principal: Annotated[Principal, Depends(authorize)]) -> Rpc:
    # async: a plain `def` dependency costs a worker-thread round trip on every request.
    state = request.app.state
    metadata = bearer(principal.token)
    key = request.headers.get("idempotency-key")
    if key is not None and request.method == "POST":
        # The service honours it (runtime.idempotency): a retry creates nothing twice.
        if not KEY_PATTERN.fullmatch(key):
            raise ApiError(422, "INVALID_ARGUMENT", KEY_RULE)
        metadata = (*metadata, ("idempotency-key", key))
    settings = state.settings
    return Rpc(state.peers, metadata, settings.rpc_timeout_s, settings.long_rpc_timeout_s)


RpcDep = Annotated[Rpc, Depends(rpc)]


def as_json(message: Message) -> Json:
    """The reply as REST JSON (gateway.rest_json): the .proto field names, every field present
    (zero values included) so clients see one shape, enum names without their prefix and
    64-bit integers as JSON integers."""
    return to_rest(message)


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (1 to 200 printable ASCII characters, no spaces). A retry with the "
        "same key and body returns the first result and creates nothing twice; the same key with "
        "another body is refused (422); while the first is still running, 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
}


def document_idempotency(schema: dict[str, Any]) -> dict[str, Any]:
    """Every POST states that it takes an Idempotency-Key (creating ones honour it; the others,
    votes and transitions, are safe to retry by nature)."""
    for item in schema["paths"].values():
        operation = item.get("post")
        if operation is not None:
            operation.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
    return schema
