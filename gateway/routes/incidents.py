"""Incidents: the agent service. Their triage is in gateway.routes.triage."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.incidents import DecisionQuery, IncidentQuery, NewIncident
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import agent_service_pb2 as pb

router = APIRouter(tags=["incidents"], route_class=GuardedRoute)


@router.post("/incidents", status_code=201, response_model=json_of(pb.Incident))
async def create_incident(body: NewIncident, rpc: RpcDep) -> Json:
    incident = await rpc.peers.agent.CreateIncident(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(incident)


@router.get("/incidents", response_model=json_of(pb.ListIncidentsResponse))
async def list_incidents(rpc: RpcDep, query: Annotated[IncidentQuery, Query()]) -> Json:
    """Incidents, newest first. Follow `next_page_token`."""
    reply = await rpc.peers.agent.ListIncidents(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/incidents/{incident_id}", response_model=json_of(pb.Incident))
async def get_incident(incident_id: UUID, rpc: RpcDep) -> Json:
    incident = await rpc.peers.agent.GetIncident(
        pb.GetIncidentRequest(id=str(incident_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(incident)


@router.get("/incidents/{incident_id}/decisions", response_model=json_of(pb.ListDecisionsResponse))
async def list_decisions(
    incident_id: UUID, rpc: RpcDep, query: Annotated[DecisionQuery, Query()]
) -> Json:
    """Every triage decision of the incident, newest first. Follow `next_page_token`."""
    reply = await rpc.peers.agent.ListDecisions(
        query.to_message(str(incident_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)
