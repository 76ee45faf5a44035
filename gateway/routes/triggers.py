"""Trigger rules and their firings: the agent process's TriggerService. Admins write rules
(every change a new version); everyone sees them and what they did."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.triggers import DisableBody, FiringQuery, TriggerBody, VersionQuery
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import trigger_service_pb2 as pb

router = APIRouter(tags=["triggers"], route_class=GuardedRoute)


@router.get("/triggers", response_model=json_of(pb.ListTriggersResponse))
async def list_triggers(rpc: RpcDep) -> Json:
    """Every rule at its current version, by name."""
    reply = await rpc.peers.triggers.ListTriggers(
        pb.ListTriggersRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("/triggers", status_code=201, response_model=json_of(pb.Trigger))
async def create_trigger(body: TriggerBody, rpc: RpcDep) -> Json:
    """Creates a rule (version 1); 409 when its name is taken."""
    rule = await rpc.peers.triggers.PutTrigger(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(rule)


@router.get("/trigger-firings", response_model=json_of(pb.ListFiringsResponse))
async def list_all_firings(rpc: RpcDep, query: Annotated[FiringQuery, Query()]) -> Json:
    """Every rule's firings, newest first."""
    reply = await rpc.peers.triggers.ListFirings(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/triggers/{trigger_id}", response_model=json_of(pb.Trigger))
async def get_trigger(
    trigger_id: UUID, rpc: RpcDep, query: Annotated[VersionQuery, Query()]
) -> Json:
    """One rule at its current version, or at ?version=N."""
    request = pb.GetTriggerRequest(id=str(trigger_id), version=query.version)
    rule = await rpc.peers.triggers.GetTrigger(request, timeout=rpc.timeout, metadata=rpc.metadata)
    return as_json(rule)


@router.put("/triggers/{trigger_id}", response_model=json_of(pb.Trigger))
async def change_trigger(trigger_id: UUID, body: TriggerBody, rpc: RpcDep) -> Json:
    """A new version of this rule (its name is fixed), the old one kept."""
    rule = await rpc.peers.triggers.PutTrigger(
        body.to_message(str(trigger_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(rule)


@router.post("/triggers/{trigger_id}/disable", response_model=json_of(pb.Trigger))
async def disable_trigger(trigger_id: UUID, body: DisableBody, rpc: RpcDep) -> Json:
    """A new, disabled version; PUT the definition with enabled=true to turn it back on."""
    request = pb.DisableTriggerRequest(id=str(trigger_id), reason=body.reason)
    rule = await rpc.peers.triggers.DisableTrigger(
        request, timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(rule)


@router.get("/triggers/{trigger_id}/firings", response_model=json_of(pb.ListFiringsResponse))
async def list_firings(
    trigger_id: UUID, rpc: RpcDep, query: Annotated[FiringQuery, Query()]
) -> Json:
    """This rule's firings, newest first: the causing event, the rule version, the outcome."""
    reply = await rpc.peers.triggers.ListFirings(
        query.to_message(str(trigger_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)
