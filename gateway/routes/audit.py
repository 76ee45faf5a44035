"""Reading and verifying the audit log: the audit service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.deps import Json, RpcDep, as_json
from tradeops.audit.v1 import audit_service_pb2 as pb

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/records")
async def list_records(
    rpc: RpcDep,
    after_seq: Annotated[int, Query(ge=-1, description="-1 starts at the beginning")] = -1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    target: Annotated[str, Query(max_length=256, examples=["action/4f0c..."])] = "",
) -> Json:
    request = pb.ListRecordsRequest(after_seq=after_seq, limit=limit, target=target)
    reply = await rpc.peers.audit.ListRecords(request, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(reply)


@router.post("/verify")
async def verify_chain(rpc: RpcDep) -> Json:
    reply = await rpc.peers.audit.VerifyChain(
        pb.VerifyChainRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)
