"""What a route needs to call a service: the stubs, the caller's bearer token as metadata,
and the deadline (settings.rpc_timeout_s). Depending on it authenticates and authorizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from gateway.peers import Peers
from gateway.rbac import authorize
from runtime.auth import Principal
from runtime.clients import bearer

Json = dict[str, Any]


@dataclass(frozen=True)
class Rpc:
    peers: Peers
    metadata: tuple[tuple[str, str], ...]
    timeout: float


def rpc(request: Request, principal: Annotated[Principal, Depends(authorize)]) -> Rpc:
    state = request.app.state
    return Rpc(state.peers, bearer(principal.token), state.settings.rpc_timeout_s)


RpcDep = Annotated[Rpc, Depends(rpc)]


def as_json(message: Message) -> Json:
    """Proto3 JSON with the .proto field names and every field present (zero values included),
    so clients see one shape; int64 values are strings, as the proto3 JSON mapping says."""
    return MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
