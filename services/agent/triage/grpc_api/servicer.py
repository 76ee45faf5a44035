"""The AgentService servicer: request message -> use case -> response message. Errors are
raised as domain errors and mapped to status codes by the shared guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import grpc

from runtime import paging
from runtime.auth import ANYONE, SERVICES, TRADERS, current_principal
from runtime.grpc_server import ServiceSpec, Worker
from services.agent.triage.domain.feedback import Verdict
from services.agent.triage.grpc_api.messages import (
    decision_message,
    feedback_message,
    incident_message,
    metrics_message,
    new_incident,
    optional_time,
    replay_message,
    rule_set_message,
)
from services.agent.triage.service import (
    batch,
    feedback,
    incidents,
    listing,
    replay,
    rule_sets,
    triage,
)
from services.agent.triage.service.agent import Agent
from tradeops.agent.v1 import agent_service_pb2 as pb
from tradeops.agent.v1 import agent_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AgentService"].full_name
_P = f"/{SERVICE_NAME}/"
ADMIN = frozenset({"admin"})
RBAC = {
    f"{_P}CreateIncident": TRADERS | SERVICES,
    f"{_P}GetIncident": ANYONE | SERVICES,
    f"{_P}ListIncidents": ANYONE | SERVICES,
    f"{_P}TriageIncident": TRADERS,
    f"{_P}GetDecision": ANYONE | SERVICES,
    f"{_P}ListDecisions": ANYONE | SERVICES,
    f"{_P}TriageBatch": TRADERS | SERVICES,
    f"{_P}ReplayDecision": ANYONE,
    f"{_P}RecordFeedback": TRADERS,
    f"{_P}GetTriageMetrics": ANYONE | SERVICES,
    f"{_P}PutRuleSet": ADMIN,
    f"{_P}GetRuleSet": ANYONE | SERVICES,
    f"{_P}ListRuleSets": ANYONE | SERVICES,
}
Context = grpc.aio.ServicerContext[object, object]


class AgentServicer(pb_grpc.AgentServiceServicer):
    def __init__(self, agent: Agent, wake: Callable[[], None]) -> None:
        self._agent, self._wake = agent, wake

    async def CreateIncident(
        self, request: pb.CreateIncidentRequest, context: Context
    ) -> pb.Incident:
        new = new_incident(request, self._agent.clock())
        agent = self._agent
        incident = await incidents.create_incident(
            agent.db, new=new, caller=current_principal(), windows=agent.windows, clock=agent.clock
        )
        self._wake()
        return incident_message(incident)

    async def GetIncident(self, request: pb.GetIncidentRequest, context: Context) -> pb.Incident:
        return incident_message(await incidents.get_incident(self._agent, incident_id=request.id))

    async def ListIncidents(
        self, request: pb.ListIncidentsRequest, context: Context
    ) -> pb.ListIncidentsResponse:
        page = await listing.incident_page(
            self._agent.db,
            page_size=paging.requested_size(request),
            page_token=request.page.page_token,
            since=optional_time(request.created_after, request.HasField("created_after")),
            until=optional_time(request.created_before, request.HasField("created_before")),
        )
        return pb.ListIncidentsResponse(
            incidents=[incident_message(i) for i in page.items], next_page_token=page.next_token
        )

    async def TriageIncident(
        self, request: pb.TriageIncidentRequest, context: Context
    ) -> pb.TriageDecision:
        decision = await triage.triage_incident(
            self._agent, incident_id=request.incident_id, caller=current_principal()
        )
        self._wake()
        return decision_message(decision)

    async def GetDecision(
        self, request: pb.GetDecisionRequest, context: Context
    ) -> pb.TriageDecision:
        return decision_message(await triage.get_decision(self._agent, decision_id=request.id))

    async def ListDecisions(
        self, request: pb.ListDecisionsRequest, context: Context
    ) -> pb.ListDecisionsResponse:
        page = await listing.decision_page(
            self._agent.db,
            incident_id=request.incident_id,
            page_size=paging.page_size(request.page.page_size),
            page_token=request.page.page_token,
        )
        return pb.ListDecisionsResponse(
            decisions=[decision_message(d) for d in page.items], next_page_token=page.next_token
        )

    async def TriageBatch(
        self, request: pb.TriageBatchRequest, context: Context
    ) -> pb.TriageBatchResponse:
        now = self._agent.clock()
        reports = [new_incident(item, now) for item in request.incidents]
        items = await batch.triage_batch(self._agent, reports=reports, caller=current_principal())
        self._wake()
        return pb.TriageBatchResponse(
            items=[
                pb.TriageBatchItem(
                    incident=incident_message(incident),
                    decision=decision_message(decision) if decision else None,
                )
                for incident, decision in items
            ]
        )

    async def ReplayDecision(
        self, request: pb.ReplayDecisionRequest, context: Context
    ) -> pb.ReplayResult:
        result = await replay.replay_decision(
            self._agent, decision_id=request.decision_id, caller=current_principal()
        )
        self._wake()
        return replay_message(result)

    async def RecordFeedback(
        self, request: pb.RecordFeedbackRequest, context: Context
    ) -> pb.Feedback:
        verdict = Verdict(
            request.verdict, request.corrected_severity, request.corrected_category, request.reason
        )
        try:
            item = await feedback.record_feedback(
                self._agent,
                decision_id=request.decision_id,
                verdict=verdict,
                caller=current_principal(),
            )
        finally:
            self._wake()  # refusals are audited too
        return feedback_message(item)

    async def GetTriageMetrics(
        self, request: pb.GetTriageMetricsRequest, context: Context
    ) -> pb.TriageMetrics:
        since = optional_time(request.since, request.HasField("since"))
        until = optional_time(request.until, request.HasField("until"))
        return metrics_message(await feedback.triage_metrics(self._agent, since=since, until=until))

    async def PutRuleSet(
        self, request: pb.PutRuleSetRequest, context: Context
    ) -> pb.RuleSetVersion:
        try:
            stored = await rule_sets.put_rule_set(
                self._agent,
                document=request.document,
                reason=request.reason,
                caller=current_principal(),
            )
        finally:
            self._wake()
        return rule_set_message(stored, stored.version, document=True)

    async def GetRuleSet(
        self, request: pb.GetRuleSetRequest, context: Context
    ) -> pb.RuleSetVersion:
        stored, active = await rule_sets.get_rule_set(self._agent, version=request.version)
        return rule_set_message(stored, active, document=True)

    async def ListRuleSets(
        self, request: pb.ListRuleSetsRequest, context: Context
    ) -> pb.ListRuleSetsResponse:
        stored = await rule_sets.list_rule_sets(self._agent)
        active = stored[0].version if stored else 0
        return pb.ListRuleSetsResponse(
            rule_sets=[rule_set_message(s, active, document=False) for s in stored]
        )


def spec(
    agent: Agent, *, wake: Callable[[], None] = lambda: None, workers: Sequence[Worker] = ()
) -> ServiceSpec:
    servicer = AgentServicer(agent, wake)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_AgentServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
