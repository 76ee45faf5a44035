"""Reading, verifying and redacting the audit log: the audit service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.bodies.audit import RecordQuery, Redaction
from gateway.bodies.base import MAX_INT64
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.audit.v1 import audit_service_pb2 as pb

router = APIRouter(prefix="/audit", tags=["audit"], route_class=GuardedRoute)


@router.get("/records", response_model=json_of(pb.ListRecordsResponse))
async def list_records(rpc: RpcDep, query: Annotated[RecordQuery, Query()]) -> Json:
    """Records in seq order after `after_seq`, filtered; every filter given must match."""
    reply = await rpc.peers.audit.ListRecords(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("/verify", response_model=json_of(pb.VerifyChainResponse))
async def verify_chain(rpc: RpcDep) -> Json:
    reply = await rpc.peers.audit.VerifyChain(
        pb.VerifyChainRequest(), timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("/records/{seq}/redact", response_model=json_of(pb.AuditRecord))
async def redact_payload(
    seq: Annotated[int, Path(ge=0, le=MAX_INT64)], body: Redaction, rpc: RpcDep
) -> Json:
    """Removes the record's payload text; its hashes and every proof stay valid."""
    record = await rpc.peers.audit.RedactPayload(
        body.to_message(seq), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(record)
