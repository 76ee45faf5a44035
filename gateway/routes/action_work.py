"""Who is on an action, what was said about it, and its hand-off to an executor: the ops
service. Every answer but the timeline's is the action as it now stands."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from gateway.bodies.actions import (
    Acknowledgement,
    Assignment,
    Escalation,
    ExecutionResult,
    ExecutionStart,
    NewComment,
)
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.ops.v1 import ops_service_pb2 as pb

router = APIRouter(
    prefix="/agent/ops/actions/{action_id}", tags=["actions"], route_class=GuardedRoute
)


@router.post("/assign", response_model=json_of(pb.Action))
async def assign_action(action_id: UUID, body: Assignment, rpc: RpcDep) -> Json:
    """Assigns a user and/or a team; an empty body assigns the caller."""
    action = await rpc.peers.ops.AssignAction(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.post("/acknowledge", response_model=json_of(pb.Action))
async def acknowledge_action(
    action_id: UUID, rpc: RpcDep, body: Acknowledgement | None = None
) -> Json:
    """The first acknowledgement stops the first escalation level and counts for MTTA."""
    message = (body or Acknowledgement()).to_message(str(action_id))
    action = await rpc.peers.ops.AcknowledgeAction(
        message, timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.post("/escalate", response_model=json_of(pb.Action))
async def escalate_action(action_id: UUID, body: Escalation, rpc: RpcDep) -> Json:
    """Moves a pending action to the next level of its escalation policy by hand."""
    action = await rpc.peers.ops.EscalateAction(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)


@router.post("/comments", status_code=201, response_model=json_of(pb.TimelineEntry))
async def add_comment(action_id: UUID, body: NewComment, rpc: RpcDep) -> Json:
    """Adds the caller's comment to the timeline; answers the new timeline entry."""
    entry = await rpc.peers.ops.AddComment(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(entry)


@router.get("/timeline", response_model=json_of(pb.Timeline))
async def get_timeline(action_id: UUID, rpc: RpcDep) -> Json:
    """Everything that happened to the action, oldest first."""
    timeline = await rpc.peers.ops.GetTimeline(
        pb.GetTimelineRequest(id=str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(timeline)


@router.post("/execution", response_model=json_of(pb.Action))
async def start_execution(action_id: UUID, rpc: RpcDep, body: ExecutionStart | None = None) -> Json:
    """The caller claims an approved action to execute it by hand, inside its validity window;
    only they may then record its result. 403 when an executor is named (executors are
    services), 409 outside the window (an action past it is then expired)."""
    message = (body or ExecutionStart()).to_message(str(action_id))
    action = await rpc.peers.ops.StartExecution(message, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(action)


@router.post("/execution/result", response_model=json_of(pb.Action))
async def record_execution_result(action_id: UUID, body: ExecutionResult, rpc: RpcDep) -> Json:
    """How the execution ended, from whoever claimed it (403 for anyone else); `OUTCOME_UNKNOWN`
    asks a person to check the desk system, and then any ops or admin user resolves it to
    `EXECUTED` or `FAILED` with a `detail` saying what it shows (422 without one)."""
    action = await rpc.peers.ops.RecordExecutionResult(
        body.to_message(str(action_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(action)
