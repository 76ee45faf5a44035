"""Compliance checks and their runs, and audit summaries: the agent process's
ComplianceService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.compliance import AuditWindow, ChecksRun, RecentQuery, ResultQuery
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import compliance_service_pb2 as pb

router = APIRouter(prefix="/agent", tags=["compliance"], route_class=GuardedRoute)


@router.post("/compliance/run", status_code=201, response_model=json_of(pb.ComplianceRun))
async def run_checks(rpc: RpcDep, body: ChecksRun | None = None) -> Json:
    """Runs the named checks (no body or no ids: every check) now, with the caller's token."""
    run = await rpc.peers.compliance.RunChecks(
        (body or ChecksRun()).to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(run)


@router.get("/compliance/checks", response_model=json_of(pb.ListChecksResponse))
async def list_checks(rpc: RpcDep) -> Json:
    reply = await rpc.peers.compliance.ListChecks(
        pb.ListChecksRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/compliance/runs", response_model=json_of(pb.ListRunsResponse))
async def list_runs(rpc: RpcDep, query: Annotated[RecentQuery, Query()]) -> Json:
    reply = await rpc.peers.compliance.ListRuns(
        pb.ListRunsRequest(limit=query.limit), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/compliance/runs/{run_id}", response_model=json_of(pb.ComplianceRun))
async def get_run(run_id: UUID, rpc: RpcDep) -> Json:
    run = await rpc.peers.compliance.GetRun(
        pb.GetRunRequest(id=str(run_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(run)


@router.get("/compliance/results", response_model=json_of(pb.ListResultsResponse))
async def list_results(rpc: RpcDep, query: Annotated[ResultQuery, Query()]) -> Json:
    """Check results, newest first; every filter given must match. Follow `next_page_token`."""
    reply = await rpc.peers.compliance.ListResults(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post(
    "/audit-summaries", status_code=201, tags=["audit"], response_model=json_of(pb.AuditSummary)
)
async def summarise_audit(body: AuditWindow, rpc: RpcDep) -> Json:
    """Summarises the audit records that occurred in [since, until), at most 31 days."""
    summary = await rpc.peers.compliance.SummariseAudit(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(summary)


@router.get(
    "/audit-summaries", tags=["audit"], response_model=json_of(pb.ListAuditSummariesResponse)
)
async def list_audit_summaries(rpc: RpcDep, query: Annotated[RecentQuery, Query()]) -> Json:
    reply = await rpc.peers.compliance.ListAuditSummaries(
        pb.ListAuditSummariesRequest(limit=query.limit), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get(
    "/audit-summaries/{summary_id}", tags=["audit"], response_model=json_of(pb.AuditSummary)
)
async def get_audit_summary(summary_id: UUID, rpc: RpcDep) -> Json:
    summary = await rpc.peers.compliance.GetAuditSummary(
        pb.GetAuditSummaryRequest(id=str(summary_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(summary)
