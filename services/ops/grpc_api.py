"""The OpsService servicer: request message -> use case -> response message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from runtime.auth import ANYONE, APPROVERS, SERVICES, current_principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import ServiceSpec, Worker
from services.ops import service
from services.ops.domain import Action, Risk, State, Vote
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OpsService"].full_name


def _method(name: str) -> str:
    return f"/{SERVICE_NAME}/{name}"


RBAC = {
    _method("ProposeAction"): SERVICES | {"ops", "admin"},
    _method("GetAction"): ANYONE | SERVICES,
    _method("ListActions"): ANYONE | SERVICES,
    # The domain rules give the precise refusal (requester, agent, state, duplicate).
    _method("ApproveAction"): APPROVERS,
    _method("RejectAction"): APPROVERS,
}

Context = grpc.aio.ServicerContext[Any, Any]
VoteCase = Callable[..., Awaitable[Action]]


class OpsServicer(pb_grpc.OpsServiceServicer):
    def __init__(self, db: Database, notify: Callable[[], None]) -> None:
        # notify wakes the outbox relay once a use case that wrote events has committed.
        self._db, self._notify = db, notify

    async def ProposeAction(self, request: pb.ProposeActionRequest, context: Context) -> pb.Action:
        proposal = _proposal(request)
        action = await service.propose(self._db, proposal=proposal, proposer=current_principal())
        self._notify()
        return _message(action)

    async def GetAction(self, request: pb.GetActionRequest, context: Context) -> pb.Action:
        return _message(await service.get(self._db, action_id=request.id))

    async def ListActions(
        self, request: pb.ListActionsRequest, context: Context
    ) -> pb.ListActionsResponse:
        state = _state(request.state) if request.state else None
        found, token = await service.list_actions(
            self._db,
            state=state,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListActionsResponse(actions=[_message(a) for a in found], next_page_token=token)

    async def ApproveAction(self, request: pb.VoteRequest, context: Context) -> pb.Action:
        return await self._vote(service.approve, request)

    async def RejectAction(self, request: pb.VoteRequest, context: Context) -> pb.Action:
        return await self._vote(service.reject, request)

    async def _vote(self, use_case: VoteCase, request: pb.VoteRequest) -> pb.Action:
        try:
            action = await use_case(
                self._db,
                action_id=request.id,
                approver=current_principal(),
                comment=request.comment,
            )
        finally:
            self._notify()  # a refused vote wrote a "denied" event too
        return _message(action)


def spec(db: Database, notify: Callable[[], None], workers: Sequence[Worker] = ()) -> ServiceSpec:
    servicer = OpsServicer(db, notify)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_OpsServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )


def _proposal(request: pb.ProposeActionRequest) -> service.Proposal:
    for name in ("kind", "source_ref", "requested_by"):
        if not getattr(request, name).strip():
            raise InvalidArgument(f"{name} is required")
    return service.Proposal(
        kind=request.kind,
        risk=_risk(request.risk),
        requested_by=request.requested_by,
        source_ref=request.source_ref,
        parameters=json_format.MessageToDict(request.parameters),
        rationale=request.rationale,
        proposed_by=json_format.MessageToDict(
            request.proposed_by, preserving_proto_field_name=True
        ),
        incident_id=request.incident_id,
        decision_id=request.decision_id,
    )


def _message(action: Action) -> pb.Action:
    parameters = struct_pb2.Struct()
    parameters.update(action.parameters)
    return pb.Action(
        id=action.id,
        kind=action.kind,
        parameters=parameters,
        risk=pb.Risk.Value(f"RISK_{action.risk}"),
        state=pb.ActionState.Value(f"ACTION_STATE_{action.state}"),
        rationale=action.rationale,
        requested_by=action.requested_by,
        proposed_by=json_format.ParseDict(
            action.proposed_by, common_pb2.Actor(), ignore_unknown_fields=True
        ),
        incident_id=action.incident_id,
        decision_id=action.decision_id,
        source_ref=action.source_ref,
        approvals_required=action.approvals_required,
        approvals=action.approvals,
        votes=[_vote(vote) for vote in action.votes],
        created_at=_timestamp(action.created_at),
        updated_at=_timestamp(action.updated_at),
    )


def _vote(vote: Vote) -> pb.Vote:
    return pb.Vote(
        voter=vote.voter,
        roles=sorted(vote.roles),
        approve=vote.approve,
        comment=vote.comment,
        at=_timestamp(vote.at),
    )


def _risk(number: pb.Risk.ValueType) -> Risk:
    try:
        return Risk(pb.Risk.Name(number).removeprefix("RISK_"))
    except ValueError:
        raise InvalidArgument("risk must be one of LOW, MEDIUM, HIGH, CRITICAL") from None


def _state(number: pb.ActionState.ValueType) -> State:
    try:
        return State(pb.ActionState.Name(number).removeprefix("ACTION_STATE_"))
    except ValueError:
        raise InvalidArgument(f"unknown action state {number}") from None


def _timestamp(at: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(at)
    return stamp
