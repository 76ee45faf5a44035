from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb
from tradeops.agent.v1 import remediation_service_pb2 as remediation_pb
from tradeops.common.v1 import common_pb2

DECISION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a004"
ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
RUN_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a005"
SUMMARY_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a006"
TRIAGE = f"/agent/triage/{DECISION_ID}"
INCIDENT = {"source": "md-gateway-ny4", "kind": "stale_price", "subject": "AAPL"}
INCIDENT_REQUEST = agent_pb.CreateIncidentRequest(
    source="md-gateway-ny4", kind="stale_price", subject="AAPL"
)


def stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


MARCH_1 = stamp(datetime(2026, 3, 1, tzinfo=UTC))
MARCH_2 = stamp(datetime(2026, 3, 2, tzinfo=UTC))

INCIDENT_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a001"

# (role, HTTP method, url, body, status, RPC, the request the agent process must receive)
FORWARDED: list[tuple[str, str, str, Any, int, str, Message]] = [
    (
        "viewer",
        "GET",
        "/incidents?page_size=9&page_token=t1",
        None,
        200,
        "ListIncidents",
        agent_pb.ListIncidentsRequest(page=common_pb2.PageRequest(page_size=9, page_token="t1")),
    ),
    (
        "viewer",
        "GET",
        "/incidents",
        None,
        200,
        "ListIncidents",
        agent_pb.ListIncidentsRequest(page=common_pb2.PageRequest(page_size=50)),
    ),
    (
        "viewer",
        "GET",
        "/incidents?limit=9",  # deprecated, still the page size
        None,
        200,
        "ListIncidents",
        agent_pb.ListIncidentsRequest(page=common_pb2.PageRequest(page_size=9)),
    ),
    (
        "viewer",
        "GET",
        f"/incidents/{INCIDENT_ID}/decisions?page_size=3&page_token=t1",
        None,
        200,
        "ListDecisions",
        agent_pb.ListDecisionsRequest(
            incident_id=INCIDENT_ID, page=common_pb2.PageRequest(page_size=3, page_token="t1")
        ),
    ),
    (
        "viewer",
        "GET",
        f"/incidents/{INCIDENT_ID}/decisions",
        None,
        200,
        "ListDecisions",
        agent_pb.ListDecisionsRequest(
            incident_id=INCIDENT_ID, page=common_pb2.PageRequest(page_size=50)
        ),
    ),
    (
        "trader",
        "POST",
        "/agent/triage/batch",
        {"incidents": [INCIDENT, {**INCIDENT, "venue": "XNAS", "instrument": "US0378331005"}]},
        201,
        "TriageBatch",
        agent_pb.TriageBatchRequest(
            incidents=[
                INCIDENT_REQUEST,
                agent_pb.CreateIncidentRequest(
                    source="md-gateway-ny4",
                    kind="stale_price",
                    subject="AAPL",
                    venue="XNAS",
                    instrument="US0378331005",
                ),
            ]
        ),
    ),
    (
        "viewer",
        "POST",
        f"{TRIAGE}/replay",
        None,
        200,
        "ReplayDecision",
        agent_pb.ReplayDecisionRequest(decision_id=DECISION_ID),
    ),
    (
        "trader",
        "POST",
        f"{TRIAGE}/feedback",
        {"verdict": "override", "corrected_severity": "P1", "reason": "desk was halted"},
        201,
        "RecordFeedback",
        agent_pb.RecordFeedbackRequest(
            decision_id=DECISION_ID,
            verdict="override",
            corrected_severity="P1",
            reason="desk was halted",
        ),
    ),
    (
        "ops",
        "POST",
        f"{TRIAGE}/feedback",
        {"verdict": "agree"},
        201,
        "RecordFeedback",
        agent_pb.RecordFeedbackRequest(decision_id=DECISION_ID, verdict="agree"),
    ),
    (
        "viewer",
        "GET",
        "/agent/triage/metrics?since=2026-03-01T01:00:00%2B01:00&until=2026-03-02T00:00:00Z",
        None,
        200,
        "GetTriageMetrics",
        agent_pb.GetTriageMetricsRequest(since=MARCH_1, until=MARCH_2),
    ),
    (
        "viewer",
        "GET",
        "/agent/triage/metrics",
        None,
        200,
        "GetTriageMetrics",
        agent_pb.GetTriageMetricsRequest(),
    ),
    (
        "admin",
        "PUT",
        "/agent/rulesets",
        {"document": {"version": 2, "name": "baseline", "rules": []}, "reason": "tighter"},
        200,
        "PutRuleSet",
        agent_pb.PutRuleSetRequest(
            document='{"name":"baseline","rules":[],"version":2}', reason="tighter"
        ),
    ),
    ("viewer", "GET", "/agent/rulesets", None, 200, "ListRuleSets", agent_pb.ListRuleSetsRequest()),
    (
        "viewer",
        "GET",
        "/agent/rulesets/0",
        None,
        200,
        "GetRuleSet",
        agent_pb.GetRuleSetRequest(version=0),
    ),
    (
        "viewer",
        "GET",
        "/agent/rulesets/3",
        None,
        200,
        "GetRuleSet",
        agent_pb.GetRuleSetRequest(version=3),
    ),
    (
        "trader",
        "POST",
        f"/agent/remediation/{DECISION_ID}/plan",
        None,
        200,
        "PlanRemediation",
        remediation_pb.PlanRemediationRequest(decision_id=DECISION_ID),
    ),
    (
        "viewer",
        "GET",
        f"/agent/remediation/{DECISION_ID}",
        None,
        200,
        "GetPlan",
        remediation_pb.GetPlanRequest(decision_id=DECISION_ID),
    ),
    (
        "viewer",
        "GET",
        f"/agent/executions?action_id={ACTION_ID}&limit=5",
        None,
        200,
        "ListExecutions",
        remediation_pb.ListExecutionsRequest(action_id=ACTION_ID, limit=5),
    ),
    (
        "viewer",
        "GET",
        "/agent/executions",
        None,
        200,
        "ListExecutions",
        remediation_pb.ListExecutionsRequest(limit=50),
    ),
    (
        "viewer",
        "GET",
        "/agent/playbooks",
        None,
        200,
        "ListPlaybooks",
        remediation_pb.ListPlaybooksRequest(),
    ),
    (
        "compliance",
        "POST",
        "/agent/compliance/run",
        {"check_ids": ["approval.self_approval"]},
        201,
        "RunChecks",
        compliance_pb.RunChecksRequest(check_ids=["approval.self_approval"]),
    ),
    (
        "admin",
        "POST",
        "/agent/compliance/run",
        None,
        201,
        "RunChecks",
        compliance_pb.RunChecksRequest(),
    ),
    (
        "viewer",
        "GET",
        "/agent/compliance/checks",
        None,
        200,
        "ListChecks",
        compliance_pb.ListChecksRequest(),
    ),
    (
        "ops",
        "GET",
        "/agent/compliance/runs?limit=7",
        None,
        200,
        "ListRuns",
        compliance_pb.ListRunsRequest(limit=7),
    ),
    (
        "ops",
        "GET",
        f"/agent/compliance/runs/{RUN_ID}",
        None,
        200,
        "GetRun",
        compliance_pb.GetRunRequest(id=RUN_ID),
    ),
    (
        "compliance",
        "GET",
        "/agent/compliance/results?check_id=export.unapproved&status=fail&page_size=9&page_token=t1",
        None,
        200,
        "ListResults",
        compliance_pb.ListResultsRequest(
            check_id="export.unapproved",
            status="fail",
            page=common_pb2.PageRequest(page_size=9, page_token="t1"),
        ),
    ),
    (
        "ops",
        "GET",
        "/agent/compliance/results",
        None,
        200,
        "ListResults",
        compliance_pb.ListResultsRequest(page=common_pb2.PageRequest(page_size=50)),
    ),
    (
        "ops",
        "GET",
        "/agent/compliance/results?limit=9",  # deprecated, still the page size
        None,
        200,
        "ListResults",
        compliance_pb.ListResultsRequest(page=common_pb2.PageRequest(page_size=9)),
    ),
    (
        "compliance",
        "POST",
        "/agent/audit-summaries",
        {"since": "2026-03-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"},
        201,
        "SummariseAudit",
        compliance_pb.SummariseAuditRequest(since=MARCH_1, until=MARCH_2),
    ),
    (
        "admin",
        "GET",
        "/agent/audit-summaries",
        None,
        200,
        "ListAuditSummaries",
        compliance_pb.ListAuditSummariesRequest(limit=20),
    ),
    (
        "compliance",
        "GET",
        f"/agent/audit-summaries/{SUMMARY_ID}",
        None,
        200,
        "GetAuditSummary",
        compliance_pb.GetAuditSummaryRequest(id=SUMMARY_ID),
    ),
]


@pytest.mark.parametrize(
    ("role", "method", "url", "body", "status", "rpc", "expected"),
    FORWARDED,
    ids=[f"{case[5]}-{i}" for i, case in enumerate(FORWARDED)],
)
async def test_each_agent_route_forwards_the_request_with_the_callers_token_and_a_deadline(
    gateway: Gateway,
    role: str,
    method: str,
    url: str,
    body: Any,
    status: int,
    rpc: str,
    expected: Message,
) -> None:
    headers = gateway.auth(role)

    response = await gateway.client.request(method, url, json=body, headers=headers)

    assert response.status_code == status, response.text
    assert assert_forwarded(gateway, rpc, headers) == expected


async def test_compliance_results_answer_the_next_page_token(gateway: Gateway) -> None:
    gateway.recorder.replies["ListResults"] = compliance_pb.ListResultsResponse(
        results=[compliance_pb.CheckResult(id="r1")], next_page_token="t2"
    )

    response = await gateway.client.get(
        "/agent/compliance/results?page_size=1", headers=gateway.auth("ops")
    )

    assert response.status_code == 200, response.text
    assert response.json()["next_page_token"] == "t2"
    assert [r["id"] for r in response.json()["results"]] == ["r1"]


async def test_incidents_and_their_decisions_answer_the_next_page_token(gateway: Gateway) -> None:
    gateway.recorder.replies["ListIncidents"] = agent_pb.ListIncidentsResponse(
        incidents=[agent_pb.Incident(id=INCIDENT_ID)], next_page_token="t2"
    )
    gateway.recorder.replies["ListDecisions"] = agent_pb.ListDecisionsResponse(
        decisions=[agent_pb.TriageDecision(id=DECISION_ID)], next_page_token="t3"
    )
    headers = gateway.auth("viewer")

    listed = await gateway.client.get("/incidents?page_size=1", headers=headers)
    decided = await gateway.client.get(f"/incidents/{INCIDENT_ID}/decisions", headers=headers)

    assert listed.status_code == decided.status_code == 200, (listed.text, decided.text)
    assert listed.json()["next_page_token"] == "t2"
    assert [i["id"] for i in listed.json()["incidents"]] == [INCIDENT_ID]
    assert decided.json()["next_page_token"] == "t3"
    assert [d["id"] for d in decided.json()["decisions"]] == [DECISION_ID]


@pytest.mark.parametrize(
    "url",
    [
        "/incidents?page_size=9&limit=9",
        "/incidents?page_size=501",
        "/incidents?page_size=0",
        "/incidents/not-a-uuid/decisions",
        f"/incidents/{INCIDENT_ID}/decisions?page_size=501",
    ],
)
async def test_bad_incident_paging_is_refused_before_the_agent_is_called(
    gateway: Gateway, url: str
) -> None:
    response = await gateway.client.get(url, headers=gateway.auth("viewer"))

    assert response.status_code == 422, response.text
    assert "error" in response.json()
    assert gateway.recorder.calls == []


async def test_an_incident_names_its_venue_and_instrument(gateway: Gateway) -> None:
    headers = gateway.auth("trader")
    body = {**INCIDENT, "venue": "XNAS", "instrument": "US0378331005"}

    response = await gateway.client.post("/incidents", json=body, headers=headers)

    assert response.status_code == 201
    request = assert_forwarded(gateway, "CreateIncident", headers)
    assert isinstance(request, agent_pb.CreateIncidentRequest)
    assert (request.venue, request.instrument) == ("XNAS", "US0378331005")


async def test_a_batch_answers_one_item_per_incident_a_folded_one_without_decision(
    gateway: Gateway,
) -> None:
    gateway.recorder.replies["TriageBatch"] = agent_pb.TriageBatchResponse(
        items=[
            agent_pb.TriageBatchItem(
                incident=agent_pb.Incident(id="i1"),
                decision=agent_pb.TriageDecision(id=DECISION_ID, severity="P2"),
            ),
            agent_pb.TriageBatchItem(incident=agent_pb.Incident(id="i1", deduplicated=True)),
        ]
    )

    response = await gateway.client.post(
        "/agent/triage/batch",
        json={"incidents": [INCIDENT, INCIDENT]},
        headers=gateway.auth("ops"),
    )

    items = response.json()["items"]
    assert items[0]["decision"]["severity"] == "P2"
    assert items[1]["incident"]["deduplicated"] is True
    assert "decision" not in items[1]


async def test_triage_metrics_is_not_taken_for_a_decision_id(gateway: Gateway) -> None:
    gateway.recorder.replies["GetTriageMetrics"] = agent_pb.TriageMetrics(
        decisions=4, by_severity={"P1": 1, "P3": 3}
    )

    response = await gateway.client.get("/agent/triage/metrics", headers=gateway.auth("viewer"))

    assert response.status_code == 200
    assert response.json()["by_severity"] == {"P1": 1, "P3": 3}
