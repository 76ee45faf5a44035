"""The ComplianceService servicer: request message -> use case -> response message. Peers are
called with the caller's own token, so an on-demand run sees what its requester may see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import grpc

from runtime import paging
from runtime.auth import ANYONE, APPROVERS, COMPLIANCE, current_principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import ServiceSpec, Worker
from runtime.outbox import person
from services.agent.compliance.clients.audit import AuditReader
from services.agent.compliance.clients.peers import GrpcSources, Peers
from services.agent.compliance.domain.checks import CHECKS, Limits
from services.agent.compliance.grpc_api import messages as to
from services.agent.compliance.service import queries
from services.agent.compliance.service import runs as service
from services.agent.compliance.service import summaries as summaries
from services.agent.compliance.service.runs import Clock, Requester
from services.agent.compliance.settings import SummaryConfig
from tradeops.agent.v1 import compliance_service_pb2 as pb
from tradeops.agent.v1 import compliance_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ComplianceService"].full_name
_P = f"/{SERVICE_NAME}/"
RBAC = {
    f"{_P}RunChecks": COMPLIANCE,
    f"{_P}GetRun": APPROVERS,
    f"{_P}ListRuns": APPROVERS,
    f"{_P}ListResults": APPROVERS,
    f"{_P}ListChecks": ANYONE,
    f"{_P}SummariseAudit": COMPLIANCE,
    f"{_P}GetAuditSummary": COMPLIANCE,
    f"{_P}ListAuditSummaries": COMPLIANCE,
}
DEFAULT_LIMITS, DEFAULT_CONFIG = Limits(), SummaryConfig()
Context = grpc.aio.ServicerContext[object, object]


class ComplianceServicer(pb_grpc.ComplianceServiceServicer):
    def __init__(
        self,
        db: Database,
        peers: Peers,
        *,
        limits: Limits,
        config: SummaryConfig,
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._db, self._peers, self._limits, self._config = db, peers, limits, config
        self._clock, self._wake = clock, wake

    async def RunChecks(self, request: pb.RunChecksRequest, context: Context) -> pb.ComplianceRun:
        caller = current_principal()
        run = await service.run_checks(
            self._db,
            GrpcSources(self._peers, caller.token),
            requester=Requester(caller.subject, person(caller)),
            clock=self._clock,
            limits=self._limits,
            check_ids=list(request.check_ids),
        )
        self._wake()
        return to.run(run)

    async def GetRun(self, request: pb.GetRunRequest, context: Context) -> pb.ComplianceRun:
        return to.run(await queries.get_run(self._db, run_id=request.id))

    async def ListRuns(self, request: pb.ListRunsRequest, context: Context) -> pb.ListRunsResponse:
        runs = await queries.list_runs(self._db, limit=request.limit)
        return pb.ListRunsResponse(runs=[to.run(r) for r in runs])

    async def ListResults(
        self, request: pb.ListResultsRequest, context: Context
    ) -> pb.ListResultsResponse:
        page = await queries.list_results(
            self._db,
            check_id=request.check_id,
            status=request.status,
            page_size=paging.requested_size(request),
            page_token=request.page.page_token,
        )
        return pb.ListResultsResponse(
            results=[to.result(r) for r in page.results], next_page_token=page.next_token
        )

    async def ListChecks(
        self, request: pb.ListChecksRequest, context: Context
    ) -> pb.ListChecksResponse:
        return pb.ListChecksResponse(checks=[to.check(c) for c in CHECKS])

    async def SummariseAudit(
        self, request: pb.SummariseAuditRequest, context: Context
    ) -> pb.AuditSummary:
        if not request.HasField("since"):
            raise InvalidArgument("since is required")
        caller = current_principal()
        until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
        summary = await summaries.summarise(
            self._db,
            AuditReader(self._peers.audit, caller.token, self._peers.timeout_s),
            since=request.since.ToDatetime(tzinfo=UTC),
            until=until or self._clock(),
            caller=caller,
            config=self._config,
            clock=self._clock,
        )
        self._wake()
        return to.summary(summary)

    async def GetAuditSummary(
        self, request: pb.GetAuditSummaryRequest, context: Context
    ) -> pb.AuditSummary:
        return to.summary(await summaries.get_summary(self._db, summary_id=request.id))

    async def ListAuditSummaries(
        self, request: pb.ListAuditSummariesRequest, context: Context
    ) -> pb.ListAuditSummariesResponse:
        found = await summaries.list_summaries(self._db, limit=request.limit)
        return pb.ListAuditSummariesResponse(summaries=[to.summary(s) for s in found])


def spec(
    db: Database,
    peers: Peers,
    *,
    limits: Limits = DEFAULT_LIMITS,
    config: SummaryConfig = DEFAULT_CONFIG,
    clock: Clock = lambda: datetime.now(UTC),
    wake: Callable[[], None] = lambda: None,
    workers: Sequence[Worker] = (),
) -> ServiceSpec:
    servicer = ComplianceServicer(db, peers, limits=limits, config=config, clock=clock, wake=wake)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_ComplianceServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
