"""Violations planted directly in the ops database are caught through the ops contract."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2
from sqlalchemy import select

from runtime.clients import bearer
from runtime.db import Database
from services.agent.tables import outbox
from services.agent.triage.tables import incidents
from tests.agent.compliance.helpers import (
    APPROVAL_CHECKS,
    Token,
    plant,
    plant_state,
    plant_vote,
    propose,
    refs,
    result_of,
)
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.agent.v1 import compliance_service_pb2_grpc as cgrpc
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


async def run(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token, checks: list[str]
) -> cpb.ComplianceRun:
    request = cpb.RunChecksRequest(check_ids=checks)
    return await compliance.RunChecks(
        request, metadata=bearer(token_for("carol", "compliance")), timeout=10
    )


async def test_a_self_approval_planted_in_the_ops_database_is_caught_naming_the_action(
    ops: ops_grpc.OpsServiceAsyncStub,
    ops_db: Database,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for)
    await plant_vote(ops_db, action.id, "rita", "ops")
    await plant_state(ops_db, action.id, "APPROVED")

    found = await run(compliance, token_for, APPROVAL_CHECKS)

    self_approval = result_of(found, "approval.self_approval")
    assert self_approval.status == "fail"
    assert refs(self_approval) == [f"action/{action.id}"]
    assert self_approval.evidence[0].reason == "rita approved an action they requested"
    assert self_approval.check_version == 2
    quorum = result_of(found, "approval.quorum")
    assert refs(quorum) == [f"action/{action.id}"]
    assert "0 valid approval(s)" in quorum.evidence[0].reason
    assert not found.ok


async def test_an_approval_by_the_author_of_the_edited_parameters_is_caught(
    ops: ops_grpc.OpsServiceAsyncStub,
    ops_db: Database,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for)
    parameters = struct_pb2.Struct()
    parameters.update({"feed": "XNAS-ITCH", "to": "tertiary"})
    edit = pb.UpdateParametersRequest(id=action.id, parameters=parameters, reason="degraded")
    await ops.UpdateParameters(edit, metadata=bearer(token_for("bob", "ops")), timeout=5)
    # Ops refuses bob's approval of what he wrote; plant it, as a bug or a hand edit could.
    await plant(
        ops_db,
        "INSERT INTO ops.votes (id, action_id, voter, roles, approve, comment, at,"
        " parameters_version) VALUES (gen_random_uuid(), :id, 'bob', '[\"ops\"]', true, '',"
        " now(), 2)",
        id=action.id,
    )
    await plant_state(ops_db, action.id, "APPROVED")

    found = await run(compliance, token_for, APPROVAL_CHECKS)

    self_approval = result_of(found, "approval.self_approval")
    assert refs(self_approval) == [f"action/{action.id}"]
    assert self_approval.evidence[0].reason == "bob approved parameters version 2, which they wrote"
    assert self_approval.check_version == 2
    assert "0 valid approval(s)" in result_of(found, "approval.quorum").evidence[0].reason


async def test_an_executed_action_without_quorum_is_caught_and_opens_an_incident(
    ops: ops_grpc.OpsServiceAsyncStub,
    ops_db: Database,
    agent_db: Database,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for)
    await plant_vote(ops_db, action.id, "olga", "ops")
    # The policy snapshot asked for two approvals; one was recorded, yet it ran.
    await plant(
        ops_db,
        "UPDATE ops.actions SET state = 'EXECUTED', "
        "policy = jsonb_set(policy, '{approvals_required}', '2') WHERE id = :id",
        id=action.id,
    )

    quorum = result_of(await run(compliance, token_for, ["approval.quorum"]), "approval.quorum")

    assert quorum.status == "fail"
    assert refs(quorum) == [f"action/{action.id}"]
    finding = quorum.evidence[0]
    assert "EXECUTED without a valid quorum: 1 valid approval(s)" in finding.reason
    assert "needs 2" in finding.reason
    votes = json_format.MessageToDict(finding.facts)["votes"]
    assert [v["voter"] for v in votes] == ["olga"]
    async with agent_db.transaction() as session:
        query = select(incidents).where(incidents.c.id == quorum.incident_id)
        incident = (await session.execute(query)).one()
    assert incident.subject == "compliance/approval.quorum"
    assert incident.source == "agent.compliance"
    assert action.id in incident.summary


async def test_a_high_risk_action_approved_only_by_ops_people_is_caught(
    ops: ops_grpc.OpsServiceAsyncStub,
    ops_db: Database,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for, pb.RISK_HIGH)
    await plant_vote(ops_db, action.id, "olga", "ops")
    await plant_vote(ops_db, action.id, "oscar", "ops")
    await plant_state(ops_db, action.id, "EXECUTED")

    found = await run(compliance, token_for, ["approval.sensitive_has_compliance"])

    sensitive = result_of(found, "approval.sensitive_has_compliance")
    assert sensitive.status == "fail"
    assert refs(sensitive) == [f"action/{action.id}"]
    assert sensitive.evidence[0].reason == (
        "HIGH action EXECUTED without a compliance or admin approval"
    )


async def test_an_action_approved_and_executed_through_ops_passes_every_approval_check(
    ops: ops_grpc.OpsServiceAsyncStub,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for)
    vote = pb.VoteRequest(id=action.id, comment="checked the feed")
    await ops.ApproveAction(vote, metadata=bearer(token_for("olga", "ops")), timeout=5)
    service = bearer(token_for("svc:agent", "service"))
    await ops.StartExecution(
        pb.StartExecutionRequest(id=action.id, executor="sim"), metadata=service, timeout=5
    )
    done = pb.RecordExecutionResultRequest(id=action.id, outcome=pb.ACTION_STATE_EXECUTED)
    await ops.RecordExecutionResult(done, metadata=service, timeout=5)

    found = await run(compliance, token_for, APPROVAL_CHECKS)

    assert [(r.check_id, r.status, r.examined) for r in found.results] == [
        ("approval.quorum", "pass", 1),
        ("approval.self_approval", "pass", 1),
        ("approval.sensitive_has_compliance", "pass", 0),
    ]
    assert found.ok
    assert all(not r.incident_id for r in found.results)


async def test_a_run_is_stored_with_its_evidence_and_audited(
    ops: ops_grpc.OpsServiceAsyncStub,
    ops_db: Database,
    agent_db: Database,
    compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    action = await propose(ops, token_for)
    await plant_vote(ops_db, action.id, "rita", "ops")
    ran = await run(compliance, token_for, ["approval.self_approval"])

    reader = bearer(token_for("olga", "ops"))
    stored = await compliance.GetRun(cpb.GetRunRequest(id=ran.id), metadata=reader, timeout=5)
    listed = await compliance.ListResults(
        cpb.ListResultsRequest(check_id="approval.self_approval", status="fail"),
        metadata=reader,
        timeout=5,
    )

    assert stored == ran
    assert stored.requested_by == "carol"
    assert stored.trigger == "on_demand"
    assert ran.results[0].id in [r.id for r in listed.results]
    async with agent_db.transaction() as session:
        events = [row.event for row in (await session.execute(select(outbox.c.event))).all()]
    mine = [e for e in events if ran.id in e["payload_json"] or ran.id in e["target"]]
    assert {e["action"] for e in mine} >= {"agent.compliance.run", "agent.compliance.violation"}
    violation = next(e for e in mine if e["action"] == "agent.compliance.violation")
    assert violation["outcome"] == "failure"
    assert violation["actor"]["subject"] == "carol"
    assert f"action/{action.id}" in violation["payload_json"]
