"""The ProbeService servicer: request message -> use case -> response message. Admins change
probes; every role reads them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import grpc

from runtime.auth import ANYONE, current_principal
from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy
from runtime.grpc_server import ServiceSpec, Worker
from services.agent.probes.grpc_api import messages as to
from services.agent.probes.service import probes as service
from services.agent.probes.service.probes import Clock
from tradeops.agent.v1 import probe_service_pb2 as pb
from tradeops.agent.v1 import probe_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ProbeService"].full_name
_P = f"/{SERVICE_NAME}/"
ADMIN = frozenset({"admin"})
RBAC = {
    f"{_P}PutProbe": ADMIN,
    f"{_P}DisableProbe": ADMIN,
    f"{_P}GetProbe": ANYONE,
    f"{_P}ListProbes": ANYONE,
    f"{_P}ListProbeRuns": ANYONE,
}
Context = grpc.aio.ServicerContext[object, object]


class ProbeServicer(pb_grpc.ProbeServiceServicer):
    def __init__(
        self, db: Database, *, clock: Clock, wake: Callable[[], None], egress: EgressPolicy
    ) -> None:
        self._db, self._clock, self._wake, self._egress = db, clock, wake, egress

    async def PutProbe(self, request: pb.PutProbeRequest, context: Context) -> pb.Probe:
        probe = await service.put_probe(
            self._db,
            to.spec_of(request.definition),
            probe_id=request.id,
            caller=current_principal(),
            clock=self._clock,
            egress=self._egress,
        )
        self._wake()
        return to.probe(probe)

    async def DisableProbe(self, request: pb.DisableProbeRequest, context: Context) -> pb.Probe:
        probe = await service.disable_probe(
            self._db, probe_id=request.id, caller=current_principal(), clock=self._clock
        )
        self._wake()
        return to.probe(probe)

    async def GetProbe(self, request: pb.GetProbeRequest, context: Context) -> pb.Probe:
        probe, versions = await service.get_probe(self._db, probe_id=request.id)
        return to.probe(probe, versions)

    async def ListProbes(
        self, request: pb.ListProbesRequest, context: Context
    ) -> pb.ListProbesResponse:
        found = await service.list_probes(self._db, limit=request.limit)
        return pb.ListProbesResponse(probes=[to.probe(p) for p in found])

    async def ListProbeRuns(
        self, request: pb.ListProbeRunsRequest, context: Context
    ) -> pb.ListProbeRunsResponse:
        found = await service.list_runs(self._db, probe_id=request.probe_id, limit=request.limit)
        return pb.ListProbeRunsResponse(runs=[to.run(r) for r in found])


def spec(
    db: Database,
    *,
    clock: Clock = lambda: datetime.now(UTC),
    wake: Callable[[], None] = lambda: None,
    workers: Sequence[Worker] = (),
    egress: EgressPolicy = DEFAULT,
) -> ServiceSpec:
    servicer = ProbeServicer(db, clock=clock, wake=wake, egress=egress)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_ProbeServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
