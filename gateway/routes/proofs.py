"""Proving the audit log to anyone: RFC 9162 inclusion and consistency proofs, signed
checkpoints and the public keys that verify them. The audit service answers all of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from gateway.bodies.base import MAX_INT64
from gateway.bodies.proofs import ConsistencyQuery, InclusionQuery
from gateway.deps import Json, Rpc, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.audit.v1 import audit_service_pb2 as pb

router = APIRouter(prefix="/audit", tags=["audit"], route_class=GuardedRoute)

LATEST = 0  # GetCheckpoint's "the latest one"

NOTE_EXAMPLE = (
    "tradeops.example/audit\n42\nqSWV9bnmzrXvNXuAWTa0hMBnBi4fYx2zgQ0kbD0SP/s=\n\n"
    "— tradeops.example/audit Az3grl...base64 signature...\n"
)


@router.get("/proofs/inclusion", response_model=json_of(pb.InclusionProof))
async def inclusion_proof(rpc: RpcDep, query: Annotated[InclusionQuery, Query()]) -> Json:
    """Proves record `seq` is in the tree of size `tree_size`."""
    proof = await rpc.peers.audit.GetInclusionProof(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(proof)


@router.get("/proofs/consistency", response_model=json_of(pb.ConsistencyProof))
async def consistency_proof(rpc: RpcDep, query: Annotated[ConsistencyQuery, Query()]) -> Json:
    """Proves the tree of size `first_size` is a prefix of the tree of size `second_size`."""
    proof = await rpc.peers.audit.GetConsistencyProof(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(proof)


# The literal paths come before /checkpoints/{tree_size}, which would otherwise match them.
@router.get("/checkpoints/latest", response_model=json_of(pb.SignedCheckpoint))
async def latest_checkpoint(rpc: RpcDep) -> Json:
    """The newest signed checkpoint; 404 before the first one is cut."""
    return as_json(await _checkpoint(rpc, LATEST))


@router.get(
    "/checkpoints/latest.txt",
    response_class=PlainTextResponse,
    # Its errors are declared as JSON like every route's (gateway.contract.errors).
    responses={200: {"content": {"text/plain": {"example": NOTE_EXAMPLE}}}},
)
async def latest_checkpoint_note(rpc: RpcDep) -> PlainTextResponse:
    """The newest checkpoint's signed note, byte for byte as signed, for note verifiers."""
    checkpoint = await _checkpoint(rpc, LATEST)
    return PlainTextResponse(checkpoint.note)


@router.get("/checkpoints/{tree_size}", response_model=json_of(pb.SignedCheckpoint))
async def checkpoint_at(
    rpc: RpcDep,
    tree_size: Annotated[
        int, Path(ge=1, le=MAX_INT64, description="The size it was cut at; use /latest for 0")
    ],
) -> Json:
    """The checkpoint cut at exactly `tree_size`; 404 when none was cut there."""
    return as_json(await _checkpoint(rpc, tree_size))


@router.get("/keys", response_model=json_of(pb.ListPublicKeysResponse))
async def public_keys(rpc: RpcDep) -> Json:
    """Checkpoint verifier keys, each with the tree sizes [from_size, until_size) it signs."""
    reply = await rpc.peers.audit.ListPublicKeys(
        pb.ListPublicKeysRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


async def _checkpoint(rpc: Rpc, tree_size: int) -> pb.SignedCheckpoint:
    request = pb.GetCheckpointRequest(tree_size=tree_size)
    checkpoint: pb.SignedCheckpoint = await rpc.peers.audit.GetCheckpoint(
        request, timeout=rpc.timeout, metadata=rpc.metadata
    )
    return checkpoint
