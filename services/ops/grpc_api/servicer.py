"""The OpsService servicer: request message -> use case -> response message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format

from runtime.auth import ANYONE, APPROVERS, SERVICES, TRADERS, Principal, current_principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import ServiceSpec, Worker
from services.ops.domain.actions import Clock
from services.ops.grpc_api import listing
from services.ops.grpc_api import messages as to
from services.ops.grpc_api.oversight import OversightRpcs
from services.ops.service import execution, lifecycle
from services.ops.service import proposals as service
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OpsService"].full_name
READERS = ANYONE | SERVICES
EXECUTORS = SERVICES | {"ops", "admin"}


def _method(name: str) -> str:
    return f"/{SERVICE_NAME}/{name}"


# Votes, cancellation and PutPolicy are open wider than the contract's roles on purpose: the
# use case refuses precisely (the agent, the requester, a role without approver rights, a
# non-admin) AND audits the refusal, which a refusal by the shared guard never is.
RBAC = {
    _method("ProposeAction"): EXECUTORS,
    _method("GetAction"): READERS,
    _method("ListActions"): READERS,
    _method("ApproveAction"): READERS,
    _method("RejectAction"): READERS,
    _method("CancelAction"): READERS,
    _method("UpdateParameters"): EXECUTORS,
    _method("AssignAction"): APPROVERS,
    _method("AcknowledgeAction"): APPROVERS,
    _method("EscalateAction"): APPROVERS,
    _method("AddComment"): TRADERS,
    _method("GetTimeline"): READERS,
    _method("StartExecution"): EXECUTORS,
    _method("RecordExecutionResult"): EXECUTORS,
    _method("PutPolicy"): ANYONE,
    _method("ListPolicies"): READERS,
    _method("PutEscalationPolicy"): frozenset({"admin"}),
    _method("ListEscalationPolicies"): READERS,
    _method("GetMetrics"): READERS,
    _method("ExplainVote"): READERS,
}

Context = grpc.aio.ServicerContext[Any, Any]


class OpsServicer(OversightRpcs):
    def __init__(self, db: Database, notify: Callable[[], None], clock: Clock) -> None:
        # notify wakes the outbox relay once a use case that wrote events has committed.
        self._db, self._notify, self._clock = db, notify, clock

    async def ProposeAction(self, request: pb.ProposeActionRequest, context: Context) -> pb.Action:
        caller = current_principal()
        case = service.propose(
            self._db, proposal=_proposal(request, caller), proposer=caller, now=self._clock()
        )
        return to.action(await self._changing(case))

    async def GetAction(self, request: pb.GetActionRequest, context: Context) -> pb.Action:
        return to.action(await service.get(self._db, action_id=request.id))

    async def ListActions(
        self, request: pb.ListActionsRequest, context: Context
    ) -> pb.ListActionsResponse:
        filters = listing.filters(request, current_principal(), self._clock())
        found, token = await service.list_actions(
            self._db,
            filters=filters,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListActionsResponse(actions=[to.action(a) for a in found], next_page_token=token)

    async def ApproveAction(self, request: pb.VoteRequest, context: Context) -> pb.Action:
        return await self._vote(service.approve, request)

    async def RejectAction(self, request: pb.VoteRequest, context: Context) -> pb.Action:
        return await self._vote(service.reject, request)

    async def _vote(
        self, use_case: Callable[..., Awaitable[Any]], request: pb.VoteRequest
    ) -> pb.Action:
        case = use_case(
            self._db,
            action_id=request.id,
            approver=current_principal(),
            comment=request.comment,
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def CancelAction(self, request: pb.CancelActionRequest, context: Context) -> pb.Action:
        case = lifecycle.cancel(
            self._db,
            action_id=request.id,
            actor=current_principal(),
            reason=request.reason,
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def UpdateParameters(
        self, request: pb.UpdateParametersRequest, context: Context
    ) -> pb.Action:
        case = lifecycle.update_parameters(
            self._db,
            action_id=request.id,
            actor=current_principal(),
            parameters=json_format.MessageToDict(request.parameters),
            reason=request.reason,
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def StartExecution(
        self, request: pb.StartExecutionRequest, context: Context
    ) -> pb.Action:
        case = execution.start_execution(
            self._db,
            action_id=request.id,
            actor=current_principal(),
            executor=request.executor,
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def RecordExecutionResult(
        self, request: pb.RecordExecutionResultRequest, context: Context
    ) -> pb.Action:
        case = execution.record_result(
            self._db,
            action_id=request.id,
            actor=current_principal(),
            outcome=to.state(request.outcome),
            detail=request.detail,
            now=self._clock(),
        )
        return to.action(await self._changing(case))


def spec(
    db: Database,
    notify: Callable[[], None],
    workers: Sequence[Worker] = (),
    clock: Clock = lambda: datetime.now(UTC),
) -> ServiceSpec:
    servicer = OpsServicer(db, notify, clock)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_OpsServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )


def _proposal(request: pb.ProposeActionRequest, caller: Principal) -> service.Proposal:
    # A person is always the requester of what they propose (the use case sets it), so only a
    # service must say whom it proposes for.
    required = ("kind", "source_ref", "requested_by")[: 3 if caller.kind == "service" else 2]
    for name in required:
        if not getattr(request, name).strip():
            raise InvalidArgument(f"{name} is required")
    return service.Proposal(
        kind=request.kind,
        risk=to.risk(request.risk),
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
