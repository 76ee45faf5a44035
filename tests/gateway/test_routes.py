from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from grpc_health.v1 import health_pb2

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.ops.v1 import ops_service_pb2 as ops_pb

WATCH_S = 10.0  # room for a loaded machine

INCIDENT_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a001"
ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
EXPORT_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a003"


async def test_a_trader_reports_an_incident_and_gets_what_the_agent_stored(
    gateway: Gateway,
) -> None:
    gateway.recorder.replies["CreateIncident"] = agent_pb.Incident(
        id=INCIDENT_ID, source="md-gateway-ny4", kind="market_data_latency", created_by="tom"
    )
    headers = gateway.auth("trader", subject="tom")

    response = await gateway.client.post(
        "/incidents",
        headers=headers,
        json={
            "source": "md-gateway-ny4",
            "kind": "market_data_latency",
            "subject": "XNAS-ITCH",
            "metrics": {"latency_ms": 850, "drops": 1.5},
            "observed_at": "2026-03-01T09:30:00+01:00",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == INCIDENT_ID
    assert body["created_by"] == "tom"
    assert body["summary"] == ""  # zero values are present, one shape for clients
    request = assert_forwarded(gateway, "CreateIncident", headers)
    assert isinstance(request, agent_pb.CreateIncidentRequest)
    assert request.subject == "XNAS-ITCH"
    assert dict(request.metrics) == {"latency_ms": 850.0, "drops": 1.5}
    assert request.observed_at.ToDatetime(UTC) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


async def test_anyone_reads_incidents_and_one_incident(gateway: Gateway) -> None:
    gateway.recorder.replies["ListIncidents"] = agent_pb.ListIncidentsResponse(
        incidents=[agent_pb.Incident(id=INCIDENT_ID)]
    )
    headers = gateway.auth("viewer")

    listing = await gateway.client.get("/incidents?limit=7", headers=headers)

    assert [i["id"] for i in listing.json()["incidents"]] == [INCIDENT_ID]
    assert assert_forwarded(gateway, "ListIncidents", headers) == agent_pb.ListIncidentsRequest(
        page=common_pb2.PageRequest(page_size=7)
    )
    gateway.recorder.calls.clear()
    one = await gateway.client.get(f"/incidents/{INCIDENT_ID}", headers=headers)
    assert one.status_code == 200
    assert assert_forwarded(gateway, "GetIncident", headers) == agent_pb.GetIncidentRequest(
        id=INCIDENT_ID
    )


async def test_triage_returns_the_decision_with_its_reasons(gateway: Gateway) -> None:
    gateway.recorder.replies["TriageIncident"] = agent_pb.TriageDecision(
        id="d1",
        incident_id=INCIDENT_ID,
        severity="P2",
        rules_fired=[agent_pb.RuleHit(rule_id="md.latency", threshold=500, observed=850)],
    )
    headers = gateway.auth("ops")

    response = await gateway.client.post(
        "/agent/triage", json={"incident_id": INCIDENT_ID}, headers=headers
    )

    assert response.status_code == 201
    assert response.json()["rules_fired"][0]["rule_id"] == "md.latency"
    request = assert_forwarded(gateway, "TriageIncident", headers)
    assert request == agent_pb.TriageIncidentRequest(incident_id=INCIDENT_ID)


async def test_actions_are_listed_by_state_with_paging(gateway: Gateway) -> None:
    gateway.recorder.replies["ListActions"] = ops_pb.ListActionsResponse(
        actions=[ops_pb.Action(id=ACTION_ID, state=ops_pb.ACTION_STATE_PENDING_APPROVAL)],
        next_page_token="next",
    )
    headers = gateway.auth("viewer")

    response = await gateway.client.get(
        "/agent/ops/actions?state=PENDING_APPROVAL&page_size=10&page_token=abc", headers=headers
    )

    body = response.json()
    assert body["actions"][0]["state"] == "PENDING_APPROVAL"
    assert body["next_page_token"] == "next"
    request = assert_forwarded(gateway, "ListActions", headers)
    assert isinstance(request, ops_pb.ListActionsRequest)
    assert request.state == ops_pb.ACTION_STATE_PENDING_APPROVAL
    assert (request.page.page_size, request.page.page_token) == (10, "abc")


async def test_an_approver_votes_with_a_comment_or_without_a_body(gateway: Gateway) -> None:
    gateway.recorder.replies["ApproveAction"] = ops_pb.Action(id=ACTION_ID, approvals=1)
    headers = gateway.auth("compliance", subject="carol")

    approved = await gateway.client.post(
        f"/agent/ops/actions/{ACTION_ID}/approve", json={"comment": "ok"}, headers=headers
    )
    assert approved.json()["approvals"] == 1
    request = assert_forwarded(gateway, "ApproveAction", headers)
    assert request == ops_pb.VoteRequest(id=ACTION_ID, comment="ok")

    gateway.recorder.calls.clear()
    rejected = await gateway.client.post(f"/agent/ops/actions/{ACTION_ID}/reject", headers=headers)
    assert rejected.status_code == 200
    assert assert_forwarded(gateway, "RejectAction", headers) == ops_pb.VoteRequest(id=ACTION_ID)


async def test_audit_records_default_to_the_start_of_the_log(gateway: Gateway) -> None:
    gateway.recorder.replies["ListRecords"] = audit_pb.ListRecordsResponse(
        records=[audit_pb.AuditRecord(seq=0, leaf_hash="ab" * 32)], last_seq=0, log_size=1
    )
    headers = gateway.auth("viewer")

    response = await gateway.client.get("/audit/records", headers=headers)

    assert response.json()["records"][0]["leaf_hash"] == "ab" * 32
    request = assert_forwarded(gateway, "ListRecords", headers)
    assert request == audit_pb.ListRecordsRequest(after_seq=-1, limit=50)


async def test_compliance_verifies_the_chain(gateway: Gateway) -> None:
    gateway.recorder.replies["VerifyChain"] = audit_pb.VerifyChainResponse(
        ok=True, checked=3, first_bad_seq=-1
    )
    headers = gateway.auth("compliance")

    response = await gateway.client.post("/audit/verify", headers=headers)

    assert response.json() == {"ok": True, "checked": 3, "first_bad_seq": -1, "reason": ""}
    assert_forwarded(gateway, "VerifyChain", headers)


async def test_compliance_creates_lists_and_reads_exports(gateway: Gateway) -> None:
    export = export_pb.Export(
        id=EXPORT_ID, kind="audit_extract", state=export_pb.EXPORT_STATE_SIGNED
    )
    gateway.recorder.replies["CreateExport"] = export
    gateway.recorder.replies["GetExport"] = export
    headers = gateway.auth("admin")

    created = await gateway.client.post(
        "/exports", json={"kind": "audit_extract", "from_seq": 2, "to_seq": 9}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["state"] == "SIGNED"
    request = assert_forwarded(gateway, "CreateExport", headers)
    assert request == export_pb.CreateExportRequest(
        kind="audit_extract", format="jsonl", from_seq=2, to_seq=9
    )

    gateway.recorder.calls.clear()
    listed = await gateway.client.get("/exports?page_size=5", headers=headers)
    assert listed.json() == {"exports": [], "next_page_token": ""}
    assert assert_forwarded(gateway, "ListExports", headers) == export_pb.ListExportsRequest(
        page=common_pb2.PageRequest(page_size=5)
    )

    gateway.recorder.calls.clear()
    one = await gateway.client.get(f"/exports/{EXPORT_ID}", headers=headers)
    assert one.json()["id"] == EXPORT_ID


async def test_readiness_names_the_peer_that_is_down(gateway: Gateway) -> None:
    assert (await gateway.client.get("/readyz")).json()["status"] == "ready"

    await gateway.fakes["export"].stop(0)
    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["down"] == ["export"]
    assert response.json()["peers"]["agent"] == "SERVING"


async def test_readiness_names_the_peers_that_say_they_are_not_serving(gateway: Gateway) -> None:
    """A peer that lost its database answers health NOT_SERVING (runtime.health)."""
    for name in ("ops", "audit"):
        await gateway.fakes[name].health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["down"] == ["audit", "ops"]
    # Once the gateway's round robin has seen it (it watches each peer's health), a peer with
    # no replica SERVING is one it has nothing to ask: UNAVAILABLE.
    assert response.json()["peers"]["ops"] in ("NOT_SERVING", "UNAVAILABLE")

    await gateway.fakes["ops"].health.set("", health_pb2.HealthCheckResponse.SERVING)
    await gateway.fakes["audit"].health.set("", health_pb2.HealthCheckResponse.SERVING)
    assert await ready_within(gateway, WATCH_S)


async def ready_within(gateway: Gateway, seconds: float) -> bool:
    """Whether /readyz says 200 before `seconds` pass: the channels learn of a peer serving
    again from its health stream, a moment after it changed."""
    deadline = time.monotonic() + seconds
    while (await gateway.client.get("/readyz")).status_code != 200:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
