"""Remediation plans, executions and playbooks: the agent process's RemediationService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.remediation import ExecutionQuery
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import remediation_service_pb2 as pb

router = APIRouter(prefix="/agent", tags=["remediation"], route_class=GuardedRoute)


@router.post("/remediation/{decision_id}/plan", response_model=json_of(pb.RemediationPlan))
async def plan_remediation(decision_id: UUID, rpc: RpcDep) -> Json:
    """Applies the playbook for the decision's category and proposes every step to ops on the
    caller's behalf. Idempotent: planning again returns the stored plan."""
    plan = await rpc.peers.remediation.PlanRemediation(
        pb.PlanRemediationRequest(decision_id=str(decision_id)),
        timeout=rpc.timeout,
        metadata=rpc.metadata,
    )
    return as_json(plan)


@router.get("/remediation/{decision_id}", response_model=json_of(pb.RemediationPlan))
async def get_plan(decision_id: UUID, rpc: RpcDep) -> Json:
    plan = await rpc.peers.remediation.GetPlan(
        pb.GetPlanRequest(decision_id=str(decision_id)),
        timeout=rpc.timeout,
        metadata=rpc.metadata,
    )
    return as_json(plan)


@router.get("/executions", response_model=json_of(pb.ListExecutionsResponse))
async def list_executions(rpc: RpcDep, query: Annotated[ExecutionQuery, Query()]) -> Json:
    """Executions, newest first, with every delivery attempt."""
    reply = await rpc.peers.remediation.ListExecutions(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/playbooks", response_model=json_of(pb.ListPlaybooksResponse))
async def list_playbooks(rpc: RpcDep) -> Json:
    reply = await rpc.peers.remediation.ListPlaybooks(
        pb.ListPlaybooksRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)
