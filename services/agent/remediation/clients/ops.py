"""Remediation's calls to ops, as the agent's own service identity with a deadline on each:
proposing a plan's steps, listing actions by state, claiming one (StartExecution) and reporting
how it ended. gRPC failures become domain errors: FAILED_PRECONDITION -> Conflict,
PERMISSION_DENIED -> PermissionDenied, NOT_FOUND -> NotFound, anything else -> Unavailable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from runtime.clients import bearer
from runtime.errors import Conflict, DomainError, NotFound, PermissionDenied, Unavailable
from runtime.tokens import ServiceIdentity
from services.agent.remediation.domain.plans import Plan, PlannedStep, dry_run_dict
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

PAGE_SIZE, MAX_PAGES = 100, 20
_ERRORS: Mapping[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.FAILED_PRECONDITION: Conflict,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
}


@dataclass(frozen=True)
class ActionView:
    """What the execution worker needs of an ops action."""

    id: str
    kind: str
    parameters: Mapping[str, Any]
    updated_at: datetime


class OpsLink:
    def __init__(
        self, stub: ops_grpc.OpsServiceAsyncStub, identity: ServiceIdentity, timeout_s: float
    ) -> None:
        self._stub, self._identity, self._timeout_s = stub, identity, timeout_s

    async def propose(self, plan: Plan, step: PlannedStep) -> str:
        action = await self._call(self._stub.ProposeAction, proposal(plan, step))
        if not action.id:
            raise Unavailable("ops ProposeAction returned an action without an id")
        return str(action.id)

    async def list_actions(self, state: str) -> list[ActionView]:
        found: list[ActionView] = []
        token = ""
        for _ in range(MAX_PAGES):
            page = common_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token)
            request = ops_pb.ListActionsRequest(state=_state(state), page=page)
            response = await self._call(self._stub.ListActions, request)
            found.extend(_view(action) for action in response.actions)
            token = response.next_page_token
            if not token:
                break
        return found

    async def start(self, action_id: str, executor: str) -> ActionView:
        request = ops_pb.StartExecutionRequest(id=action_id, executor=executor)
        return _view(await self._call(self._stub.StartExecution, request))

    async def record(self, action_id: str, outcome: str, detail: str) -> None:
        request = ops_pb.RecordExecutionResultRequest(
            id=action_id, outcome=_state(outcome), detail=detail[:2000]
        )
        await self._call(self._stub.RecordExecutionResult, request)

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(
                request, timeout=self._timeout_s, metadata=bearer(self._identity.token("ops"))
            )
        except grpc.aio.AioRpcError as exc:
            error = _ERRORS.get(exc.code(), Unavailable)
            raise error(f"ops: {exc.code().name}: {exc.details()}") from None


def proposal(plan: Plan, step: PlannedStep) -> ops_pb.ProposeActionRequest:
    """The step as ops stores it: its parameters carry the dry run and the playbook version, so
    approvers see the prediction and the executor gets exactly what was approved."""
    parameters = struct_pb2.Struct()
    parameters.update(
        {
            **step.parameters,
            "dry_run": dry_run_dict(step.dry_run),
            "playbook": {
                "name": plan.playbook_name,
                "version": plan.playbook_version,
                "step": step.step_id,
            },
        }
    )
    return ops_pb.ProposeActionRequest(
        kind=step.kind,
        parameters=parameters,
        risk=ops_pb.Risk.Value(f"RISK_{step.risk}"),
        rationale=f"{step.rationale} Predicted: {step.dry_run.summary}.",
        requested_by=plan.planned_by,
        proposed_by=common_pb2.Actor(
            subject=f"agent-playbook/{plan.playbook_name}",
            kind="agent",
            logic_version=plan.playbook_version,
        ),
        incident_id=plan.incident_id,
        decision_id=plan.decision_id,
        source_ref=step.source_ref,
    )


def _state(name: str) -> ops_pb.ActionState.ValueType:
    return ops_pb.ActionState.Value(f"ACTION_STATE_{name}")


def _view(action: ops_pb.Action) -> ActionView:
    return ActionView(
        id=action.id,
        kind=action.kind,
        parameters=json_format.MessageToDict(action.parameters),
        updated_at=action.updated_at.ToDatetime(tzinfo=UTC),
    )
