"""Exports of the agent's and ops' records on the whole system as real processes (the e2e
stack): the evidence pack of an ops action (the action with its votes, its incident and triage
decision, and its audit records, each with an inclusion proof against the signed checkpoint the
pack is cut at), and a compliance run's results."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.struct_pb2 import Struct

from runtime.canonical import canonical_json
from runtime.clients import bearer
from runtime.stack import Stack
from services.audit.log.domain.merkle.proofs import verify_inclusion
from services.export.cli import main as cli
from tests.e2e.conftest import api, auth_header, e2e_pg, eventually, otlp, stack
from tests.e2e.test_seed_flow import records_for, triaged_action
from tests.export.test_signed_export import standard_tools
from tradeops.agent.v1 import compliance_service_pb2 as compliance_pb
from tradeops.agent.v1 import compliance_service_pb2_grpc as compliance_grpc
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

__all__ = ["api", "auth_header", "e2e_pg", "otlp", "stack"]  # the e2e stack's fixtures, reused
Headers = Callable[..., dict[str, str]]
PACK_FILES = [
    "action.jsonl",
    "timeline.jsonl",
    "incident.jsonl",
    "decisions.jsonl",
    "audit_records.jsonl",
    "checkpoint.txt",
]


@pytest.fixture
def exports(stack: Stack) -> Iterator[pb_grpc.ExportServiceStub]:
    with grpc.insecure_channel(stack.address("export")) as channel:
        yield pb_grpc.ExportServiceStub(channel)


def pack_request(action_id: str, key: str) -> pb.CreateExportRequest:
    parameters = Struct()
    parameters.update({"action_id": action_id})
    return pb.CreateExportRequest(
        kind="evidence_pack", format="jsonl", parameters=parameters, client_key=key
    )


def lines(directory: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / name).read_text("utf-8").splitlines()]


def leaf_hash(record: dict[str, Any]) -> str:
    """The record's RFC 6962 leaf hash, re-derived from its exported fields (the canonical
    encoding the audit contract specifies)."""
    event = record["event"]
    occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    body = {
        "seq": int(record["seq"]),
        "event_id": event["event_id"],
        "occurred_at": occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": {k: event["actor"].get(k, "" if k != "roles" else []) for k in ACTOR},
        "action": event["action"],
        "target": event["target"],
        "outcome": event["outcome"],
        "trace_id": event.get("trace_id", ""),
        "source": event["source"],
        "payload_sha256": record["payload_sha256"],
        "prev_hash": record["prev_hash"],
    }
    return hashlib.sha256(b"\x00" + canonical_json(body).encode("utf-8")).hexdigest()


ACTOR = ("subject", "roles", "kind", "logic_version", "desk")


def approved_action(api: httpx.Client, auth_header: Headers) -> tuple[str, str, str]:
    olga, bob = auth_header("olga", "ops"), auth_header("bob", "ops")
    incident_id, decision = triaged_action(api, olga)
    action_id = decision["action_id"]
    voted = api.post(f"/agent/ops/actions/{action_id}/approve", json={"comment": "ok"}, headers=bob)
    assert voted.status_code == 200, voted.text
    eventually(
        lambda: any(
            r["event"]["action"] == "ops.action.approved"
            for r in records_for(api, bob, f"action/{action_id}")
        ),
        what="the approval in the audit log",
    )
    return action_id, incident_id, decision["id"]


def test_an_evidence_pack_holds_the_votes_and_proven_audit_records_of_an_action(
    api: httpx.Client,
    auth_header: Headers,
    stack: Stack,
    exports: pb_grpc.ExportServiceStub,
    token_for: Callable[..., str],
    tmp_path: Path,
) -> None:
    action_id, incident_id, decision_id = approved_action(api, auth_header)
    carol = bearer(token_for("carol", "compliance"))

    export = exports.CreateExport(pack_request(action_id, "pack-1"), metadata=carol, timeout=60)

    assert export.state == pb.EXPORT_STATE_SIGNED, export.failure_reason
    assert [f.name for f in export.files] == PACK_FILES
    directory = Path(stack.env["TRADEOPS_EXPORT_DIR"]) / export.directory
    action = lines(directory, "action.jsonl")[0]
    assert [(v["voter"], v["approve"]) for v in action["votes"]] == [("bob", True)]
    assert action["policy"]["id"]  # the policy snapshot it was proposed under
    assert any(e["kind"] == "vote" for e in lines(directory, "timeline.jsonl"))
    assert [i["id"] for i in lines(directory, "incident.jsonl")] == [incident_id]
    assert [d["id"] for d in lines(directory, "decisions.jsonl")] == [decision_id]

    proven = lines(directory, "audit_records.jsonl")
    targets = {r["record"]["event"]["target"] for r in proven}
    actions = {r["record"]["event"]["action"] for r in proven}
    assert targets == {f"action/{action_id}", f"incident/{incident_id}"}
    assert {"ops.action.approved", "agent.incident.created"} <= actions
    seqs = [int(r["record"]["seq"]) for r in proven]
    assert seqs == sorted(seqs)

    note = (directory / "checkpoint.txt").read_text("utf-8").splitlines()
    size, root = int(note[1]), base64.b64decode(note[2])
    assert (size, root.hex()) == (export.checkpoint_size, export.checkpoint_root)
    for entry in proven:
        record, proof = entry["record"], entry["inclusion_proof"]
        assert leaf_hash(record) == record["leaf_hash"] == proof["leaf_hash"]
        hashes = [bytes.fromhex(h) for h in proof["proof"]]
        verify_inclusion(int(record["seq"]), size, bytes.fromhex(record["leaf_hash"]), hashes, root)

    key = tmp_path / "export-key.pem"
    keys = exports.ListPublicKeys(pb.ListPublicKeysRequest(), metadata=carol, timeout=10).keys
    key.write_text(next(k.pem for k in keys if k.key_id == export.key_id))
    signature, sums = standard_tools(directory, key)
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert cli(["export", "verify", str(directory), "--pubkey", str(key)]) == 0

    automation = bearer(token_for("trigger:kill-switch", "service"))
    again = exports.CreateExport(pack_request(action_id, "pack-2"), metadata=automation, timeout=60)
    assert again.state == pb.EXPORT_STATE_SIGNED, again.failure_reason
    assert again.requested_by == "trigger:kill-switch"


def test_an_unknown_action_is_not_found_and_nothing_is_written(
    stack: Stack, exports: pb_grpc.ExportServiceStub, token_for: Callable[..., str]
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    before = sorted(Path(stack.env["TRADEOPS_EXPORT_DIR"]).glob("*"))
    listed = exports.ListExports(pb.ListExportsRequest(kind="evidence_pack"), metadata=carol)

    missing = pack_request("00000000-0000-4000-8000-000000000000", "pack-missing")
    with pytest.raises(grpc.RpcError) as refused:
        exports.CreateExport(missing, metadata=carol, timeout=30)

    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert sorted(Path(stack.env["TRADEOPS_EXPORT_DIR"]).glob("*")) == before
    after = exports.ListExports(pb.ListExportsRequest(kind="evidence_pack"), metadata=carol)
    assert len(after.exports) == len(listed.exports)


def test_a_pack_in_csv_or_without_an_action_is_refused(
    stack: Stack, exports: pb_grpc.ExportServiceStub, token_for: Callable[..., str]
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    csv_pack = pack_request("a1", "")
    csv_pack.format = "csv"
    for request in (csv_pack, pb.CreateExportRequest(kind="evidence_pack")):
        with pytest.raises(grpc.RpcError) as refused:
            exports.CreateExport(request, metadata=carol, timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_compliance_run_is_exported_with_every_result_and_its_evidence(
    stack: Stack, exports: pb_grpc.ExportServiceStub, token_for: Callable[..., str]
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    with grpc.insecure_channel(stack.address("agent")) as channel:
        agent = compliance_grpc.ComplianceServiceStub(channel)
        run = agent.RunChecks(compliance_pb.RunChecksRequest(), metadata=carol, timeout=60)
    parameters = Struct()
    parameters.update({"run_id": run.id})
    request = pb.CreateExportRequest(kind="compliance_checks", format="csv", parameters=parameters)

    export = exports.CreateExport(request, metadata=carol, timeout=60)

    assert export.state == pb.EXPORT_STATE_SIGNED, export.failure_reason
    directory = Path(stack.env["TRADEOPS_EXPORT_DIR"]) / export.directory
    rows = list(csv.DictReader(io.StringIO((directory / "compliance_checks.csv").read_text())))
    assert len(run.results) > 0
    assert sorted((r["id"], r["check_id"], r["status"]) for r in rows) == sorted(
        (r.id, r.check_id, r.status) for r in run.results
    )
    assert export.record_count == len(run.results)


def test_a_window_of_results_is_exported_whole_as_the_agent_lists_it_page_by_page(
    stack: Stack,
    exports: pb_grpc.ExportServiceStub,
    api: httpx.Client,
    auth_header: Headers,
    token_for: Callable[..., str],
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    since = datetime.now(UTC)
    with grpc.insecure_channel(stack.address("agent")) as channel:
        agent = compliance_grpc.ComplianceServiceStub(channel)
        runs = [
            agent.RunChecks(compliance_pb.RunChecksRequest(), metadata=carol, timeout=60)
            for _ in range(2)
        ]
    until = datetime.now(UTC)
    request = pb.CreateExportRequest(kind="compliance_checks")
    request.since.FromDatetime(since)
    request.until.FromDatetime(until)

    export = exports.CreateExport(request, metadata=carol, timeout=60)

    assert export.state == pb.EXPORT_STATE_SIGNED, export.failure_reason
    directory = Path(stack.env["TRADEOPS_EXPORT_DIR"]) / export.directory
    exported = [row["id"] for row in lines(directory, "compliance_checks.jsonl")]
    assert sorted(exported) == sorted(r.id for run in runs for r in run.results)
    listed = listed_through_the_gateway(api, auth_header("olga", "ops"), since)
    assert exported == [r["id"] for r in listed if _checked_at(r) < until]


def listed_through_the_gateway(
    api: httpx.Client, headers: dict[str, str], since: datetime
) -> list[dict[str, Any]]:
    """Results checked at or after `since`, newest first, read two at a time."""
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        params: dict[str, str | int] = {"page_size": 2, "page_token": token}
        page = api.get("/agent/compliance/results", params=params, headers=headers).json()
        assert 0 < len(page["results"]) <= 2, page
        found += [r for r in page["results"] if _checked_at(r) >= since]
        token = page["next_page_token"]
        if not token or _checked_at(page["results"][-1]) < since:
            return found


def _checked_at(result: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(result["checked_at"])
