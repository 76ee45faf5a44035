"""Incidents: the agent service. Their triage is in gateway.routes.triage."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.deps import Json, RpcDep, as_json
from gateway.schemas import NewIncident
from tradeops.agent.v1 import agent_service_pb2 as pb

router = APIRouter(tags=["incidents"])


@router.post("/incidents", status_code=201)
async def create_incident(body: NewIncident, rpc: RpcDep) -> Json:
    incident = await rpc.peers.agent.CreateIncident(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(incident)


@router.get("/incidents")
async def list_incidents(rpc: RpcDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Json:
    reply = await rpc.peers.agent.ListIncidents(
        pb.ListIncidentsRequest(limit=limit), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/incidents/{incident_id}")
async def get_incident(incident_id: UUID, rpc: RpcDep) -> Json:
    incident = await rpc.peers.agent.GetIncident(
        pb.GetIncidentRequest(id=str(incident_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(incident)
