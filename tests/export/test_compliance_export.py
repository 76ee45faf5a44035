"""compliance_checks exports read through the agent's ComplianceService contract (a fake
servicer in-process, over real gRPC), in both formats, with their filters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.struct_pb2 import Struct

from runtime.auth import APPROVERS, Principal
from runtime.clients import open_channel
from runtime.errors import InvalidArgument, NotFound
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.export.clients.compliance import GrpcComplianceResults
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.service.exports import Exporter, create_export
from tests.export.test_create_export import export_rows
from tests.keys import verifier_for
from tradeops.agent.v1 import compliance_service_pb2 as pb
from tradeops.agent.v1 import compliance_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]
HOUR = 3600
BASE = 1_780_000_000


def result(n: int, status: str = "pass", check_id: str = "approval.self_approval") -> Any:
    found = pb.CheckResult(
        id=f"r{n}",
        run_id=f"run{n % 2}",
        check_id=check_id,
        check_version=2,
        status=status,
        examined=10 + n,
        detail=f"detail {n}",
    )
    if status == "fail":
        facts = Struct()
        facts.update({"voters": ["bob"], "policy_version": 3})
        found.evidence.append(pb.Finding(ref="action/a1", reason="bob approved", facts=facts))
        found.incident_id = f"inc{n}"
    found.checked_at.FromSeconds(BASE + n * HOUR)
    return found


@dataclass
class FakeCompliance(pb_grpc.ComplianceServiceServicer):
    results: list[Any] = field(
        default_factory=lambda: [result(4, "fail"), result(3), result(2, "error"), result(1)]
    )
    asked: list[Any] = field(default_factory=list)

    async def ListResults(
        self, request: pb.ListResultsRequest, context: Context
    ) -> pb.ListResultsResponse:
        self.asked.append(request)
        found = [
            r
            for r in self.results
            if (not request.check_id or r.check_id == request.check_id)
            and (not request.status or r.status == request.status)
        ]
        if not request.HasField("page"):
            return pb.ListResultsResponse(results=found[: request.limit or 50])
        start, size = int(request.page.page_token or 0), request.page.page_size or 50
        more = len(found) > start + size
        return pb.ListResultsResponse(
            results=found[start : start + size], next_page_token=str(start + size) if more else ""
        )

    async def GetRun(self, request: pb.GetRunRequest, context: Context) -> pb.ComplianceRun:
        found = [r for r in self.results if r.run_id == request.id]
        if not found:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no run {request.id}")
        return pb.ComplianceRun(id=request.id, results=found)


@pytest.fixture
async def compliance(
    auth_settings: AuthSettings,
) -> AsyncIterator[tuple[GrpcComplianceResults, FakeCompliance]]:
    fake = FakeCompliance()  # type: ignore[abstract]  # a fake serves only what is called
    name = "tradeops.agent.v1.ComplianceService"
    spec = ServiceSpec(
        register=lambda server: pb_grpc.add_ComplianceServiceServicer_to_server(fake, server),
        service_names=[name],
        rbac={f"/{name}/{method}": APPROVERS for method in ("ListResults", "GetRun")},
    )
    running = await start(spec, "127.0.0.1:0", verifier_for(spec, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield GrpcComplianceResults(pb_grpc.ComplianceServiceStub(channel), timeout_s=5), fake
    finally:
        await channel.close(None)
        await running.stop(0)


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


@pytest.fixture
def real(exporter: Exporter, compliance: tuple[GrpcComplianceResults, FakeCompliance]) -> Exporter:
    return replace(exporter, compliance=compliance[0])


def hour(n: int) -> datetime:
    return datetime.fromtimestamp(BASE + n * HOUR, UTC)


def lines(exporter: Exporter, export_id: str, name: str) -> list[dict[str, Any]]:
    text = (exporter.export_dir / export_id / name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


async def test_results_in_the_window_are_exported_with_their_evidence(
    real: Exporter, carol: Principal
) -> None:
    request = ExportRequest("compliance_checks", since=hour(2), until=hour(5))
    export = await create_export(real, request, carol)

    rows = lines(real, export.id, "compliance_checks.jsonl")
    assert (export.state, export.record_count) == (ExportState.SIGNED, 3)
    assert [row["id"] for row in rows] == ["r4", "r3", "r2"]
    assert rows[0]["status"] == "fail"
    assert rows[0]["evidence"][0]["facts"] == {"voters": ["bob"], "policy_version": 3.0}
    assert rows[0]["incident_id"] == "inc4"


async def test_check_and_status_filters_reach_the_agent(
    real: Exporter, compliance: tuple[GrpcComplianceResults, FakeCompliance], carol: Principal
) -> None:
    compliance[1].results.append(result(5, "fail", check_id="export.unverified"))
    parameters = {"check_id": "approval.self_approval", "status": "fail"}
    export = await create_export(
        real, ExportRequest("compliance_checks", parameters=parameters), carol
    )

    assert [row["id"] for row in lines(real, export.id, "compliance_checks.jsonl")] == ["r4"]
    asked = compliance[1].asked[-1]
    assert (asked.check_id, asked.status) == ("approval.self_approval", "fail")
    assert asked.page.page_size == 500


async def test_one_runs_results_as_csv_with_json_evidence_cells(
    real: Exporter, carol: Principal
) -> None:
    request = ExportRequest("compliance_checks", format="csv", parameters={"run_id": "run0"})
    export = await create_export(real, request, carol)

    text = (real.export_dir / export.id / "compliance_checks.csv").read_text("utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(row["id"], row["run_id"]) for row in table] == [("r4", "run0"), ("r2", "run0")]
    assert json.loads(table[0]["evidence"])[0]["ref"] == "action/a1"
    assert table[1]["status"] == "error"


async def test_an_unknown_run_is_not_found_and_nothing_is_recorded(
    real: Exporter, carol: Principal
) -> None:
    before = await export_rows(real.db)
    request = ExportRequest("compliance_checks", parameters={"run_id": "run-nope"})
    with pytest.raises(NotFound, match="no compliance run 'run-nope'"):
        await create_export(real, request, carol)

    assert await export_rows(real.db) == before
    assert not real.export_dir.exists() or list(real.export_dir.iterdir()) == []


async def test_an_export_over_many_pages_holds_every_result_once_newest_first(
    real: Exporter, compliance: tuple[GrpcComplianceResults, FakeCompliance], carol: Principal
) -> None:
    compliance[1].results = [result(n) for n in range(1203, 0, -1)]
    export = await create_export(real, ExportRequest("compliance_checks"), carol)

    rows = lines(real, export.id, "compliance_checks.jsonl")
    assert (export.state, export.record_count) == (ExportState.SIGNED, 1203)
    assert [row["id"] for row in rows] == [f"r{n}" for n in range(1203, 0, -1)]
    assert [a.page.page_token for a in compliance[1].asked] == ["", "500", "1000"]


async def test_paging_stops_at_the_first_page_reaching_past_the_window(
    real: Exporter, compliance: tuple[GrpcComplianceResults, FakeCompliance], carol: Principal
) -> None:
    compliance[1].results = [result(n) for n in range(1203, 0, -1)]
    request = ExportRequest("compliance_checks", since=hour(501), until=hour(1200))
    export = await create_export(real, request, carol)

    rows = lines(real, export.id, "compliance_checks.jsonl")
    assert [row["id"] for row in rows] == [f"r{n}" for n in range(1199, 500, -1)]
    assert len(compliance[1].asked) == 2


async def test_results_tied_at_the_start_of_the_window_are_all_read_across_pages(
    real: Exporter, compliance: tuple[GrpcComplianceResults, FakeCompliance], carol: Principal
) -> None:
    tied = [result(n) for n in range(600, 0, -1)]
    for found in tied:
        found.checked_at.FromSeconds(BASE + 7 * HOUR)  # a run's results share their time
    compliance[1].results = tied
    export = await create_export(real, ExportRequest("compliance_checks", since=hour(7)), carol)

    assert export.record_count == 600


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"status": "maybe"}, "status must be one of"),
        ({"outcome": "fail"}, "unknown parameters"),
        ({"check_id": ""}, "must be a text"),
        ({"run_id": 7}, "must be a text"),
    ],
)
async def test_bad_filters_are_refused_before_anything_is_recorded(
    real: Exporter, carol: Principal, parameters: dict[str, Any], message: str
) -> None:
    before = await export_rows(real.db)
    with pytest.raises(InvalidArgument, match=message):
        await create_export(real, ExportRequest("compliance_checks", parameters=parameters), carol)

    assert await export_rows(real.db) == before
