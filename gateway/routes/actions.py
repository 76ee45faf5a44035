"""Remediation actions awaiting people: the ops service."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.deps import Json, RpcDep, as_json
from gateway.schemas import Vote
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb

router = APIRouter(prefix="/agent/ops/actions", tags=["actions"])

State = Literal["pending_approval", "approved", "rejected"]


@router.get("")
async def list_actions(
    rpc: RpcDep,
    state: State | None = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: Annotated[str, Query(max_length=1024)] = "",
) -> Json:
    request = pb.ListActionsRequest(
        state=_state(state),
        page=common_pb2.PageRequest(page_size=page_size, page_token=page_token),
    )
    reply = await rpc.peers.ops.ListActions(request, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(reply)


@router.get("/{action_id}")
async def get_action(action_id: UUID, rpc: RpcDep) -> Json:
    action = await rpc.peers.ops.GetAction(
        pb.GetActionRequest(id=str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.post("/{action_id}/approve")
async def approve_action(action_id: UUID, rpc: RpcDep, body: Vote | None = None) -> Json:
    vote = pb.VoteRequest(id=str(action_id), comment=body.comment if body else "")
    action = await rpc.peers.ops.ApproveAction(vote, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(action)


@router.post("/{action_id}/reject")
async def reject_action(action_id: UUID, rpc: RpcDep, body: Vote | None = None) -> Json:
    vote = pb.VoteRequest(id=str(action_id), comment=body.comment if body else "")
    action = await rpc.peers.ops.RejectAction(vote, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(action)


def _state(name: State | None) -> pb.ActionState.ValueType:
    if name is None:
        return pb.ACTION_STATE_UNSPECIFIED  # no filter
    return pb.ActionState.Value(f"ACTION_STATE_{name.upper()}")
