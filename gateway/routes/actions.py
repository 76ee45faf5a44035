"""Remediation actions awaiting people, and their decision: the ops service."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.actions import ActionQuery, Cancellation, NewParameters, Vote
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.ops.v1 import ops_service_pb2 as pb

router = APIRouter(prefix="/agent/ops/actions", tags=["actions"], route_class=GuardedRoute)


@router.get("", response_model=json_of(pb.ListActionsResponse))
async def list_actions(rpc: RpcDep, query: Annotated[ActionQuery, Query()]) -> Json:
    """Actions, newest first or by deadline; every filter given must match. `awaiting_me=true`
    is the caller's inbox. Follow `next_page_token` (good for the same order only)."""
    reply = await rpc.peers.ops.ListActions(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/{action_id}", response_model=json_of(pb.Action))
async def get_action(action_id: UUID, rpc: RpcDep) -> Json:
    action = await rpc.peers.ops.GetAction(
        pb.GetActionRequest(id=str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.get("/{action_id}/eligibility", response_model=json_of(pb.VoteEligibility))
async def vote_eligibility(action_id: UUID, rpc: RpcDep) -> Json:
    """Whether the caller may approve and may reject the action now, and if not, why, in words
    for a disabled button; `approve_refusal` and `reject_refusal` are what the approve and
    reject routes would answer, word for word (the very same check)."""
    found = await rpc.peers.ops.ExplainVote(
        pb.ExplainVoteRequest(id=str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(found)


@router.post("/{action_id}/approve", response_model=json_of(pb.Action))
async def approve_action(action_id: UUID, rpc: RpcDep, body: Vote | None = None) -> Json:
    vote = pb.VoteRequest(id=str(action_id), comment=body.comment if body else "")
    action = await rpc.peers.ops.ApproveAction(vote, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(action)


@router.post("/{action_id}/reject", response_model=json_of(pb.Action))
async def reject_action(action_id: UUID, rpc: RpcDep, body: Vote | None = None) -> Json:
    vote = pb.VoteRequest(id=str(action_id), comment=body.comment if body else "")
    action = await rpc.peers.ops.RejectAction(vote, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(action)


@router.post("/{action_id}/cancel", response_model=json_of(pb.Action))
async def cancel_action(action_id: UUID, body: Cancellation, rpc: RpcDep) -> Json:
    """Withdraws a pending or approved action. The ops service admits ops, admin and the
    action's requester; 409 once it is executing or decided otherwise."""
    action = await rpc.peers.ops.CancelAction(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.put("/{action_id}/parameters", response_model=json_of(pb.Action))
async def update_parameters(action_id: UUID, body: NewParameters, rpc: RpcDep) -> Json:
    """Replaces a pending action's parameters; every earlier vote is voided (kept in the
    timeline, no longer counted). 409 unless the action is pending."""
    action = await rpc.peers.ops.UpdateParameters(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)
