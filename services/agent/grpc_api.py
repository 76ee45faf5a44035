"""The AgentService servicer: request message -> use case -> response message. Errors are
raised as domain errors and mapped to status codes by the shared guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from runtime.auth import ANYONE, SERVICES, TRADERS, current_principal
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, Worker
from services.agent import service
from services.agent.domain import Decision, RuleSet
from services.agent.incidents import Incident, NewIncident
from services.agent.proposals import Proposer
from tradeops.agent.v1 import agent_service_pb2 as pb
from tradeops.agent.v1 import agent_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AgentService"].full_name
_P = f"/{SERVICE_NAME}/"
RBAC = {
    f"{_P}CreateIncident": TRADERS | SERVICES,
    f"{_P}GetIncident": ANYONE | SERVICES,
    f"{_P}ListIncidents": ANYONE | SERVICES,
    f"{_P}TriageIncident": TRADERS,
    f"{_P}GetDecision": ANYONE | SERVICES,
}
Context = grpc.aio.ServicerContext[object, object]


class AgentServicer(pb_grpc.AgentServiceServicer):
    def __init__(
        self, db: Database, proposer: Proposer, rules: RuleSet, wake: Callable[[], None]
    ) -> None:
        self._db, self._proposer, self._rules, self._wake = db, proposer, rules, wake

    async def CreateIncident(
        self, request: pb.CreateIncidentRequest, context: Context
    ) -> pb.Incident:
        new = NewIncident(
            source=request.source,
            kind=request.kind,
            desk=request.desk,
            subject=request.subject,
            summary=request.summary,
            metrics=dict(request.metrics),
            observed_at=_observed_at(request),
        )
        incident = await service.create_incident(self._db, new=new, caller=current_principal())
        self._wake()
        return incident_message(incident)

    async def GetIncident(self, request: pb.GetIncidentRequest, context: Context) -> pb.Incident:
        return incident_message(await service.get_incident(self._db, incident_id=request.id))

    async def ListIncidents(
        self, request: pb.ListIncidentsRequest, context: Context
    ) -> pb.ListIncidentsResponse:
        incidents = await service.list_incidents(self._db, limit=request.limit)
        return pb.ListIncidentsResponse(incidents=[incident_message(i) for i in incidents])

    async def TriageIncident(
        self, request: pb.TriageIncidentRequest, context: Context
    ) -> pb.TriageDecision:
        decision = await service.triage_incident(
            self._db,
            self._proposer,
            incident_id=request.incident_id,
            caller=current_principal(),
            rules=self._rules,
        )
        self._wake()
        return decision_message(decision)

    async def GetDecision(
        self, request: pb.GetDecisionRequest, context: Context
    ) -> pb.TriageDecision:
        return decision_message(await service.get_decision(self._db, decision_id=request.id))


def incident_message(incident: Incident) -> pb.Incident:
    return pb.Incident(
        id=incident.id,
        source=incident.source,
        kind=incident.kind,
        desk=incident.desk,
        subject=incident.subject,
        summary=incident.summary,
        metrics=dict(incident.metrics),
        observed_at=_timestamp(incident.observed_at),
        created_at=_timestamp(incident.created_at),
        created_by=incident.created_by,
    )


def decision_message(decision: Decision) -> pb.TriageDecision:
    outcome = decision.outcome
    return pb.TriageDecision(
        id=decision.id,
        incident_id=decision.incident_id,
        category=outcome.category,
        severity=outcome.severity,
        confidence=outcome.confidence,
        input_sha256=outcome.input_sha256,
        logic_name=decision.logic_name,
        logic_version=decision.logic_version,
        rules_fired=[
            pb.RuleHit(
                rule_id=hit.rule_id,
                metric=hit.metric,
                threshold=hit.threshold,
                observed=hit.observed,
                explanation=hit.explanation,
            )
            for hit in outcome.rules_fired
        ],
        recommended_action=outcome.recommendation.action if outcome.recommendation else "",
        action_id=decision.action_id or "",
        created_at=_timestamp(decision.created_at),
        requested_by=decision.requested_by,
    )


def spec(
    db: Database,
    proposer: Proposer,
    rules: RuleSet,
    *,
    wake: Callable[[], None] = lambda: None,
    workers: Sequence[Worker] = (),
) -> ServiceSpec:
    servicer = AgentServicer(db, proposer, rules, wake)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_AgentServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )


def _observed_at(request: pb.CreateIncidentRequest) -> datetime:
    if request.HasField("observed_at"):
        return request.observed_at.ToDatetime(tzinfo=UTC)
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
