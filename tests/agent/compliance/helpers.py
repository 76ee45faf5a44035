"""Proposing actions through the real ops contract, and planting rows behind its back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from google.protobuf import struct_pb2
from sqlalchemy import text

from runtime.clients import bearer
from runtime.db import Database
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Token = Callable[..., str]
APPROVAL_CHECKS = ["approval.quorum", "approval.self_approval", "approval.sensitive_has_compliance"]


async def propose(
    ops: ops_grpc.OpsServiceAsyncStub, token_for: Token, risk: int = pb.RISK_LOW
) -> pb.Action:
    parameters = struct_pb2.Struct()
    parameters.update({"feed": "XNAS-ITCH", "to": "secondary"})
    request = pb.ProposeActionRequest(
        kind="failover_market_data_feed",
        parameters=parameters,
        risk=risk,  # type: ignore[arg-type]
        rationale="feed latency above 50 ms for 3 minutes",
        requested_by="rita",
        proposed_by=common_pb2.Actor(subject="triage-agent", kind="agent", logic_version="1"),
        source_ref=f"decision/{uuid.uuid4()}",
    )
    return await ops.ProposeAction(
        request, metadata=bearer(token_for("svc:agent", "service")), timeout=5
    )


async def plant(db: Database, statement: str, **params: Any) -> None:
    """Changes ops rows directly, as someone with database access could."""
    async with db.transaction() as session:
        await session.execute(text(statement), params)


async def plant_vote(db: Database, action_id: str, voter: str, *roles: str) -> None:
    await plant(
        db,
        "INSERT INTO ops.votes (id, action_id, voter, roles, approve, comment, at) "
        "VALUES (gen_random_uuid(), :id, :voter, CAST(:roles AS jsonb), true, '', now())",
        id=action_id,
        voter=voter,
        roles=str(list(roles)).replace("'", '"'),
    )


async def plant_state(db: Database, action_id: str, state: str) -> None:
    await plant(
        db, "UPDATE ops.actions SET state = :state WHERE id = :id", state=state, id=action_id
    )


def result_of(run: cpb.ComplianceRun, check_id: str) -> cpb.CheckResult:
    return next(r for r in run.results if r.check_id == check_id)


def refs(result: cpb.CheckResult) -> list[str]:
    return [finding.ref for finding in result.evidence]
