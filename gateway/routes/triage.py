"""Triage decisions, their replay, feedback and metrics, and the versioned rule sets: the agent
service. /agent/triage/metrics is declared before /agent/triage/{decision_id}, which would
otherwise take "metrics" for an id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from gateway.bodies.triage import (
    FeedbackBody,
    IncidentBatch,
    RuleSetBody,
    TriageMetricsQuery,
    TriageRequest,
)
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import agent_service_pb2 as pb

router = APIRouter(prefix="/agent", tags=["triage"], route_class=GuardedRoute)

Version = Annotated[int, Path(ge=0, le=2**31 - 1, description="0: the active version")]


@router.post("/triage", status_code=201, response_model=json_of(pb.TriageDecision))
async def triage_incident(body: TriageRequest, rpc: RpcDep) -> Json:
    decision = await rpc.peers.agent.TriageIncident(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(decision)


@router.post("/triage/batch", status_code=201, response_model=json_of(pb.TriageBatchResponse))
async def triage_batch(body: IncidentBatch, rpc: RpcDep) -> Json:
    """Creates (or de-duplicates) and triages up to 1,000 incidents; one item per incident, in
    order. A de-duplicated report's item has no decision."""
    reply = await rpc.peers.agent.TriageBatch(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/triage/metrics", tags=["metrics"], response_model=json_of(pb.TriageMetrics))
async def get_triage_metrics(rpc: RpcDep, query: Annotated[TriageMetricsQuery, Query()]) -> Json:
    """Decisions by severity and category, and feedback per logic version, in [since, until)."""
    metrics = await rpc.peers.agent.GetTriageMetrics(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(metrics)


@router.get("/triage/{decision_id}", response_model=json_of(pb.TriageDecision))
async def get_decision(decision_id: UUID, rpc: RpcDep) -> Json:
    decision = await rpc.peers.agent.GetDecision(
        pb.GetDecisionRequest(id=str(decision_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(decision)


@router.post("/triage/{decision_id}/replay", response_model=json_of(pb.ReplayResult))
async def replay_decision(decision_id: UUID, rpc: RpcDep) -> Json:
    """Re-runs the stored input with the rule set that decided; says whether the output is
    identical."""
    result = await rpc.peers.agent.ReplayDecision(
        pb.ReplayDecisionRequest(decision_id=str(decision_id)),
        timeout=rpc.timeout,
        metadata=rpc.metadata,
    )
    return as_json(result)


@router.post("/triage/{decision_id}/feedback", status_code=201, response_model=json_of(pb.Feedback))
async def record_feedback(decision_id: UUID, body: FeedbackBody, rpc: RpcDep) -> Json:
    feedback = await rpc.peers.agent.RecordFeedback(
        body.to_message(str(decision_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(feedback)


@router.put("/rulesets", tags=["rulesets"], response_model=json_of(pb.RuleSetVersion))
async def put_rule_set(body: RuleSetBody, rpc: RpcDep) -> Json:
    """Stores the next rule set version and makes it active. Checked by the agent, as they need
    the active version: its "version" must be the active version + 1 (409 otherwise), and it
    must declare every incident kind the active version declares (422 otherwise)."""
    version = await rpc.peers.agent.PutRuleSet(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(version)


@router.get("/rulesets", tags=["rulesets"], response_model=json_of(pb.ListRuleSetsResponse))
async def list_rule_sets(rpc: RpcDep) -> Json:
    reply = await rpc.peers.agent.ListRuleSets(
        pb.ListRuleSetsRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/rulesets/{version}", tags=["rulesets"], response_model=json_of(pb.RuleSetVersion))
async def get_rule_set(version: Version, rpc: RpcDep) -> Json:
    rule_set = await rpc.peers.agent.GetRuleSet(
        pb.GetRuleSetRequest(version=version), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(rule_set)
