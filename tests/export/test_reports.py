"""Reports read through the ops and agent contracts (fake servicers in-process), in both formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from runtime.auth import ANYONE, SERVICES, Principal
from runtime.clients import open_channel
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.export.clients.reports import GrpcReports
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.service.exports import Exporter, create_export
from tests.keys import verifier_for
from tradeops.agent.v1 import agent_service_pb2 as agent_pb2
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb2
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Context = grpc.aio.ServicerContext[Any, Any]
DAY = 86_400
BASE = 1_780_000_000


def action(n: int) -> ops_pb2.Action:
    found = ops_pb2.Action(
        id=f"a{n}",
        kind="failover_market_data_feed",
        state=ops_pb2.ACTION_STATE_APPROVED,
        incident_id=f"i{n}",
        decision_id=f"d{n}",
        votes=[ops_pb2.Vote(voter="bob", approve=True)],
        policy=ops_pb2.ApprovalPolicy(id="default", version=3),
    )
    found.created_at.FromSeconds(BASE + n * DAY)
    return found


@dataclass
class FakeOps(ops_grpc.OpsServiceServicer):
    actions: list[ops_pb2.Action] = field(default_factory=lambda: [action(n) for n in (3, 2, 1)])
    pages: list[str] = field(default_factory=list)

    async def ListActions(
        self, request: ops_pb2.ListActionsRequest, context: Context
    ) -> ops_pb2.ListActionsResponse:
        self.pages.append(request.page.page_token)
        start = int(request.page.page_token or 0)
        chosen = self.actions[start : start + 1]  # one per page: paging is exercised
        token = str(start + 1) if start + 1 < len(self.actions) else ""
        return ops_pb2.ListActionsResponse(actions=chosen, next_page_token=token)

    async def GetAction(
        self, request: ops_pb2.GetActionRequest, context: Context
    ) -> ops_pb2.Action:
        return next(a for a in self.actions if a.id == request.id)


def incident(n: int, desk: str = "") -> agent_pb2.Incident:
    found = agent_pb2.Incident(id=f"i{n}", kind="stale_price", desk=desk or f"desk{n % 2}")
    found.created_at.FromSeconds(BASE + n * DAY)
    return found


@dataclass
class FakeAgent(agent_grpc.AgentServiceServicer):
    """Pages as the agent does (at most page_size, token = offset); ignores the created_*
    filters, so the export must stop on its own at the first incident older than `since`."""

    incidents: list[agent_pb2.Incident] = field(
        default_factory=lambda: [incident(n) for n in (3, 2, 1)]
    )
    decisions: dict[str, list[agent_pb2.TriageDecision]] = field(
        default_factory=lambda: {
            "i3": [
                agent_pb2.TriageDecision(
                    id="d3",
                    incident_id="i3",
                    severity="P2",
                    logic_version="2026.1",
                    recommended_action="failover_market_data_feed",
                    action_id="a3",
                ),
                agent_pb2.TriageDecision(id="d3-quiet", incident_id="i3", severity="P4"),
            ]
        }
    )
    requests: list[agent_pb2.ListIncidentsRequest] = field(default_factory=list)

    async def ListIncidents(
        self, request: agent_pb2.ListIncidentsRequest, context: Context
    ) -> agent_pb2.ListIncidentsResponse:
        self.requests.append(request)
        start, size = int(request.page.page_token or 0), min(request.page.page_size, 500)
        chosen = self.incidents[start : start + size]
        token = str(start + size) if start + size < len(self.incidents) else ""
        return agent_pb2.ListIncidentsResponse(incidents=chosen, next_page_token=token)

    async def ListDecisions(
        self, request: agent_pb2.ListDecisionsRequest, context: Context
    ) -> agent_pb2.ListDecisionsResponse:
        start = int(request.page.page_token or 0)
        found = self.decisions.get(request.incident_id, [])
        token = (
            str(start + 1) if start + 1 < len(found) else ""
        )  # one per page: paging is exercised
        return agent_pb2.ListDecisionsResponse(
            decisions=found[start : start + 1], next_page_token=token
        )


Served = tuple[GrpcReports, FakeOps, FakeAgent]


@pytest.fixture
async def reports(auth_settings: AuthSettings) -> AsyncIterator[Served]:
    ops, agent = FakeOps(), FakeAgent()  # type: ignore[abstract]  # fakes serve what is called

    def register(server: grpc.aio.Server) -> None:
        ops_grpc.add_OpsServiceServicer_to_server(ops, server)
        agent_grpc.add_AgentServiceServicer_to_server(agent, server)

    spec = ServiceSpec(
        register=register,
        service_names=["tradeops.ops.v1.OpsService", "tradeops.agent.v1.AgentService"],
        rbac={
            f"/tradeops.{svc}/{method}": ANYONE | SERVICES
            for svc, method in [
                ("ops.v1.OpsService", "ListActions"),
                ("ops.v1.OpsService", "GetAction"),
                ("agent.v1.AgentService", "ListIncidents"),
                ("agent.v1.AgentService", "GetDecision"),
                ("agent.v1.AgentService", "ListDecisions"),
            ]
        },
    )
    running = await start(spec, "127.0.0.1:0", verifier_for(spec, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        stubs = ops_grpc.OpsServiceStub(channel), agent_grpc.AgentServiceStub(channel)
        yield GrpcReports(*stubs, timeout_s=5), ops, agent
    finally:
        await channel.close(None)
        await running.stop(0)


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


def day(n: int) -> datetime:
    return datetime.fromtimestamp(BASE + n * DAY, UTC)


def read(exporter: Exporter, directory: str, name: str) -> str:
    return (exporter.export_dir / directory / name).read_text("utf-8")


async def test_an_actions_report_holds_each_action_in_the_window_with_votes_and_policy(
    exporter: Exporter,
    reports: Served,
    carol: Principal,
) -> None:
    real = Exporter(exporter.db, exporter.audit, reports[0], exporter.signer, exporter.export_dir)
    request = ExportRequest("actions_report", since=day(2), until=day(3))
    export = await create_export(real, request, carol)

    rows = [json.loads(line) for line in read(real, export.id, "actions.jsonl").splitlines()]
    assert export.state is ExportState.SIGNED
    assert [row["id"] for row in rows] == ["a2"]
    assert rows[0]["votes"][0]["voter"] == "bob"
    assert rows[0]["policy"] == {"id": "default", "version": 3}
    # Newest first: paging stopped at the first action older than `since`.
    assert reports[1].pages == ["", "1", "2"]


async def test_an_actions_report_as_csv_has_a_header_and_json_cells(
    exporter: Exporter, reports: Served, carol: Principal
) -> None:
    real = Exporter(exporter.db, exporter.audit, reports[0], exporter.signer, exporter.export_dir)
    export = await create_export(real, ExportRequest("actions_report", format="csv"), carol)

    table = list(csv.DictReader(io.StringIO(read(real, export.id, "actions.csv"))))
    assert [row["id"] for row in table] == ["a3", "a2", "a1"]
    assert json.loads(table[0]["votes"]) == [{"approve": True, "voter": "bob"}]
    assert table[0]["state"] == "ACTION_STATE_APPROVED"
    assert export.record_count == 3


async def test_an_incidents_report_carries_every_triage_decision_even_one_that_proposed_nothing(
    exporter: Exporter, reports: Served, carol: Principal
) -> None:
    real = Exporter(exporter.db, exporter.audit, reports[0], exporter.signer, exporter.export_dir)
    request = ExportRequest("incidents_report", since=day(2), parameters={"desk": "desk1"})
    export = await create_export(real, request, carol)

    rows = [json.loads(line) for line in read(real, export.id, "incidents.jsonl").splitlines()]
    assert [row["id"] for row in rows] == ["i3"]
    assert [d["id"] for d in rows[0]["decisions"]] == ["d3", "d3-quiet"]
    assert rows[0]["decisions"][0]["severity"] == "P2"
    assert "action_id" not in rows[0]["decisions"][1]  # proposed nothing, still reported
    # The window is passed on, so an agent that filters need not send older incidents.
    sent = reports[2].requests[0]
    assert sent.created_after.ToDatetime(tzinfo=UTC) == day(2)
    assert not sent.HasField("created_before")


async def test_an_incidents_report_over_more_than_500_incidents_holds_every_one(
    exporter: Exporter, reports: Served, carol: Principal
) -> None:
    agent = reports[2]
    agent.incidents = [incident(n, desk="desk") for n in range(1700, 0, -1)]  # newest first
    real = Exporter(exporter.db, exporter.audit, reports[0], exporter.signer, exporter.export_dir)
    request = ExportRequest("incidents_report", since=day(601), until=day(1701))
    export = await create_export(real, request, carol)

    rows = [json.loads(line) for line in read(real, export.id, "incidents.jsonl").splitlines()]
    assert [row["id"] for row in rows] == [f"i{n}" for n in range(1700, 600, -1)]
    assert export.record_count == 1100
    # Newest first: the third page reached past `since`, so the fourth was never read.
    assert [r.page.page_token for r in agent.requests] == ["", "500", "1000"]


async def test_an_unknown_action_state_filter_is_refused(
    exporter: Exporter, reports: Served, carol: Principal, tmp_path: Path
) -> None:
    real = Exporter(exporter.db, exporter.audit, reports[0], exporter.signer, exporter.export_dir)
    request = ExportRequest("actions_report", parameters={"state": "dancing"})

    with pytest.raises(Exception, match="unknown action state"):
        await create_export(real, request, carol)
