"""The RemediationService servicer: request message -> use case -> response message. Errors are
raised as domain errors and mapped to status codes by the shared guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import grpc

from runtime.auth import ANYONE, SERVICES, TRADERS, current_principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import ServiceSpec, Worker
from services.agent.remediation.domain.playbooks import Library
from services.agent.remediation.grpc_api.messages import execution_message, plan_message
from services.agent.remediation.repository import executions
from services.agent.remediation.service import planning
from tradeops.agent.v1 import remediation_service_pb2 as pb
from tradeops.agent.v1 import remediation_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RemediationService"].full_name
_P = f"/{SERVICE_NAME}/"
RBAC = {
    f"{_P}PlanRemediation": TRADERS,
    f"{_P}GetPlan": ANYONE | SERVICES,
    f"{_P}ListExecutions": ANYONE | SERVICES,
    f"{_P}ListPlaybooks": ANYONE | SERVICES,
}
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
Context = grpc.aio.ServicerContext[object, object]
Clock = Callable[[], datetime]


class RemediationServicer(pb_grpc.RemediationServiceServicer):
    def __init__(
        self,
        db: Database,
        proposer: planning.StepProposer,
        library: Library,
        wake: Callable[[], None],
        clock: Clock,
    ) -> None:
        self._db, self._proposer, self._library = db, proposer, library
        self._wake, self._clock = wake, clock

    async def PlanRemediation(
        self, request: pb.PlanRemediationRequest, context: Context
    ) -> pb.RemediationPlan:
        try:
            plan = await planning.plan_remediation(
                self._db,
                self._proposer,
                self._library,
                decision_id=request.decision_id,
                caller=current_principal(),
                clock=self._clock,
            )
        finally:
            self._wake()  # refusals write audit events too
        return plan_message(plan)

    async def GetPlan(self, request: pb.GetPlanRequest, context: Context) -> pb.RemediationPlan:
        return plan_message(await planning.get_plan(self._db, decision_id=request.decision_id))

    async def ListExecutions(
        self, request: pb.ListExecutionsRequest, context: Context
    ) -> pb.ListExecutionsResponse:
        if request.limit < 0:
            raise InvalidArgument("limit must not be negative")
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        async with self._db.transaction() as session:
            found = await executions.list_executions(
                session, action_id=request.action_id, limit=limit
            )
        return pb.ListExecutionsResponse(executions=[execution_message(e) for e in found])

    async def ListPlaybooks(
        self, request: pb.ListPlaybooksRequest, context: Context
    ) -> pb.ListPlaybooksResponse:
        return pb.ListPlaybooksResponse(
            playbooks=[
                pb.Playbook(
                    name=p.name,
                    version=p.logic_version,
                    categories=list(p.categories),
                    description=p.description,
                    steps=[f"{s.id}:{s.action}" for s in p.steps],
                )
                for p in self._library.playbooks
            ]
        )


def spec(
    db: Database,
    proposer: planning.StepProposer,
    library: Library,
    *,
    wake: Callable[[], None] = lambda: None,
    workers: Sequence[Worker] = (),
    clock: Clock = lambda: datetime.now(UTC),
) -> ServiceSpec:
    """RemediationService alone; the agent's __main__ merges it with AgentService's spec."""
    servicer = RemediationServicer(db, proposer, library, wake, clock)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_RemediationServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
