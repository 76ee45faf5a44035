"""Checks that read the audit and export contracts, and peers that refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runtime.clients import bearer
from runtime.db import Database
from services.agent.compliance.clients.peers import GrpcSources, Peers
from services.agent.compliance.service.runs import SCHEDULER, run_checks
from tests.agent.compliance.audit_events import append_day
from tests.agent.compliance.fakes import FakeExports, HandClock
from tests.agent.compliance.helpers import Token, refs, result_of
from tests.audit.conftest import tamper
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.agent.v1 import compliance_service_pb2_grpc as cgrpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.export.v1 import export_service_pb2 as epb

CHAIN, EXPORTS = "audit.chain_verifies", "export.verified_in_time"


async def run(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token, check: str
) -> cpb.CheckResult:
    request = cpb.RunChecksRequest(check_ids=[check])
    found = await compliance.RunChecks(
        request, metadata=bearer(token_for("carol", "compliance")), timeout=10
    )
    return result_of(found, check)


async def test_an_intact_audit_log_passes_and_a_tampered_one_fails_naming_the_record(
    audit: audit_grpc.AuditServiceAsyncStub,
    audit_admin_db: Database,
    audited_compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    await append_day(audit, token_for)
    assert (await run(audited_compliance, token_for, CHAIN)).status == "pass"

    await tamper(
        audit_admin_db, "UPDATE audit.records SET action = 'ops.action.nothing' WHERE seq = 3"
    )
    failed = await run(audited_compliance, token_for, CHAIN)

    assert failed.status == "fail"
    assert refs(failed) == ["audit/3"]
    assert failed.incident_id


async def test_an_export_not_verified_by_its_deadline_fails_the_export_check(
    exports: FakeExports,
    audited_compliance: cgrpc.ComplianceServiceAsyncStub,
    clock: HandClock,
    token_for: Token,
) -> None:
    for n, verified in enumerate([True, False, True]):
        made = epb.Export(id=f"exp-{n}", kind="audit_extract", state=epb.EXPORT_STATE_DELIVERED)
        made.created_at.FromDatetime(clock.now - timedelta(days=3))
        made.delivered_at.FromDatetime(clock.now - timedelta(days=2))
        if verified:
            made.verified_at.FromDatetime(clock.now - timedelta(days=1))
        exports.exports.append(made)

    result = await run(audited_compliance, token_for, EXPORTS)

    assert result.status == "fail"
    assert result.examined == 3
    assert refs(result) == ["export/exp-1"]


async def test_a_peer_refusing_the_agent_makes_the_check_error_never_pass(
    agent_db: Database, audit: audit_grpc.AuditServiceAsyncStub, peers: Peers, token_for: Token
) -> None:
    # A token without the service role: the audit service refuses it.
    with_audit = Peers(peers.ops, audit, peers.export, 5)
    identity = GrpcSources(with_audit, token_for("svc:agent", "viewer"))

    found = await run_checks(
        agent_db, identity, requester=SCHEDULER, clock=HandClock(), check_ids=[CHAIN]
    )

    [result] = found.results
    assert result.status == "error"
    assert not found.ok
    assert result.detail.startswith("a peer answered PERMISSION_DENIED")
    assert result.incident_id is None
    assert found.trigger == "schedule/default"
    assert datetime.now(UTC) - found.finished_at < timedelta(minutes=1)
