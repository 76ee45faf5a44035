"""The TriggerService servicer: request message -> use case -> response message."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime

import grpc

from runtime.auth import ANYONE, current_principal
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, Worker
from services.agent.workflows.grpc_api import messages as to
from services.agent.workflows.service import rules as service
from services.agent.workflows.service.rules import Clock
from tradeops.agent.v1 import trigger_service_pb2 as pb
from tradeops.agent.v1 import trigger_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["TriggerService"].full_name
_P = f"/{SERVICE_NAME}/"
ADMIN = frozenset({"admin"})
RBAC = {
    f"{_P}PutTrigger": ADMIN,
    f"{_P}GetTrigger": ANYONE,
    f"{_P}ListTriggers": ANYONE,
    f"{_P}DisableTrigger": ADMIN,
    f"{_P}ListFirings": ANYONE,
}
Context = grpc.aio.ServicerContext[object, object]


class TriggerServicer(pb_grpc.TriggerServiceServicer):
    def __init__(
        self, db: Database, *, webhooks: Collection[str], clock: Clock, wake: Callable[[], None]
    ) -> None:
        self._db, self._webhooks, self._clock, self._wake = db, webhooks, clock, wake

    async def PutTrigger(self, request: pb.PutTriggerRequest, context: Context) -> pb.Trigger:
        rule = await service.put_rule(
            self._db,
            rule_id=request.id,
            definition=to.definition(request),
            caller=current_principal(),
            webhooks=self._webhooks,
            clock=self._clock,
        )
        self._wake()
        return to.trigger(rule)

    async def GetTrigger(self, request: pb.GetTriggerRequest, context: Context) -> pb.Trigger:
        rule = await service.get_rule(self._db, rule_id=request.id, version=request.version)
        return to.trigger(rule)

    async def ListTriggers(
        self, request: pb.ListTriggersRequest, context: Context
    ) -> pb.ListTriggersResponse:
        rules = await service.list_rules(self._db)
        return pb.ListTriggersResponse(triggers=[to.trigger(r) for r in rules])

    async def DisableTrigger(
        self, request: pb.DisableTriggerRequest, context: Context
    ) -> pb.Trigger:
        rule = await service.disable(
            self._db,
            rule_id=request.id,
            reason=request.reason,
            caller=current_principal(),
            clock=self._clock,
        )
        self._wake()
        return to.trigger(rule)

    async def ListFirings(
        self, request: pb.ListFiringsRequest, context: Context
    ) -> pb.ListFiringsResponse:
        found, token = await service.list_firings(
            self._db,
            rule_id=request.trigger_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListFiringsResponse(firings=[to.firing(f) for f in found], next_page_token=token)


def spec(
    db: Database,
    *,
    webhooks: Collection[str] = (),
    clock: Clock = lambda: datetime.now(UTC),
    wake: Callable[[], None] = lambda: None,
    workers: Sequence[Worker] = (),
) -> ServiceSpec:
    servicer = TriggerServicer(db, webhooks=webhooks, clock=clock, wake=wake)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_TriggerServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
