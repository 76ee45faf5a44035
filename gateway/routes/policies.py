"""Approval and escalation policies, and the approval metrics: the ops service. A PUT stores the
body as the next version of the named policy; actions keep the version they were proposed
under."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.bodies.policies import (
    POLICY_ID,
    ApprovalPolicyBody,
    EscalationPolicyBody,
    MetricsQuery,
    PolicyQuery,
)
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.ops.v1 import ops_service_pb2 as pb

router = APIRouter(prefix="/agent/ops", tags=["policies"], route_class=GuardedRoute)

PolicyId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=POLICY_ID, examples=["kill-switch"])
]


@router.get("/policies", response_model=json_of(pb.ListPoliciesResponse))
async def list_policies(rpc: RpcDep, query: Annotated[PolicyQuery, Query()]) -> Json:
    reply = await rpc.peers.ops.ListPolicies(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.put("/policies/{policy_id}", response_model=json_of(pb.ApprovalPolicy))
async def put_policy(policy_id: PolicyId, body: ApprovalPolicyBody, rpc: RpcDep) -> Json:
    """Creates the policy, or its next version; answers the version stored."""
    policy = await rpc.peers.ops.PutPolicy(
        body.to_message(policy_id), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(policy)


@router.get("/escalation-policies", response_model=json_of(pb.ListEscalationPoliciesResponse))
async def list_escalation_policies(rpc: RpcDep) -> Json:
    reply = await rpc.peers.ops.ListEscalationPolicies(
        pb.ListEscalationPoliciesRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.put("/escalation-policies/{policy_id}", response_model=json_of(pb.EscalationPolicy))
async def put_escalation_policy(
    policy_id: PolicyId, body: EscalationPolicyBody, rpc: RpcDep
) -> Json:
    """Creates the escalation policy, or its next version; answers the version stored."""
    policy = await rpc.peers.ops.PutEscalationPolicy(
        body.to_message(policy_id), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(policy)


@router.get("/metrics", tags=["metrics"], response_model=json_of(pb.OpsMetrics))
async def get_metrics(rpc: RpcDep, query: Annotated[MetricsQuery, Query()]) -> Json:
    """Approval metrics over the actions proposed in [since, until); unset: all time, now."""
    metrics = await rpc.peers.ops.GetMetrics(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(metrics)
