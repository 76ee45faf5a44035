"""Triggers through real processes: a rule written over REST acts on the next matching event
with its own identity, and an executed kill switch produces a signed evidence pack that an
auditor verifies with openssl and sha256sum alone."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from runtime.stack import Stack
from tests.e2e.conftest import eventually

Headers = Callable[..., dict[str, str]]
RUNAWAY = {
    "source": "algo-monitor",
    "kind": "runaway_algo",
    "desk": "equities",
    "subject": "MOMENTUM-7",
    "summary": "order rate three times the limit",
    "metrics": {"order_rate_vs_limit": 3.0},
}


def proposed_action(api: httpx.Client, trader: dict[str, str], subject: str) -> str:
    incident = api.post("/incidents", json={**RUNAWAY, "subject": subject}, headers=trader)
    assert incident.status_code == 201, incident.text
    decision = api.post(
        "/agent/triage", json={"incident_id": incident.json()["id"]}, headers=trader
    )
    assert decision.status_code == 201, decision.text
    assert decision.json()["action_id"], decision.text
    return str(decision.json()["action_id"])


def trigger_named(api: httpx.Client, headers: dict[str, str], name: str) -> dict[str, Any]:
    listed = api.get("/triggers", headers=headers)
    assert listed.status_code == 200, listed.text
    [found] = [t for t in listed.json()["triggers"] if t["name"] == name]
    return dict(found)


def settled_firing(
    api: httpx.Client, headers: dict[str, str], trigger_id: str, target: str
) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def probe() -> dict[str, Any] | None:
        page = api.get(f"/triggers/{trigger_id}/firings", headers=headers)
        assert page.status_code == 200, page.text
        seen[:] = [f for f in page.json()["firings"] if f["event_target"] == target]
        settled = [f for f in seen if f["state"] != "PENDING"]
        return dict(settled[0]) if settled else None

    try:
        return eventually(probe, timeout=40, what=f"a settled firing for {target}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; firings seen: {seen}") from None


def test_only_an_admin_writes_rules_and_a_rule_acts_in_its_own_name(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    tom, ada = auth_header("tom", "trader"), auth_header("ada", "admin")
    rule = {
        "name": "cancelled-kill-switch-incident",
        "match": {
            "action": "ops.action.cancelled",
            "conditions": {"action.kind": "disable_strategy_kill_switch"},
        },
        "step": {
            "kind": "open_incident",
            "parameters": {"kind": "runaway_algo", "subject": "review/{target_id}"},
        },
        "reason": "a withdrawn kill switch needs a second look",
    }
    for role in ("viewer", "trader", "ops", "compliance"):
        refused = api.post("/triggers", json=rule, headers=auth_header("pat", role))
        assert refused.status_code == 403, (role, refused.text)
    made = api.post("/triggers", json=rule, headers=ada)
    assert made.status_code == 201, made.text
    action_id = proposed_action(api, tom, "MOMENTUM-8")

    cancelled = api.post(
        f"/agent/ops/actions/{action_id}/cancel", json={"reason": "false alarm"}, headers=tom
    )
    assert cancelled.status_code == 200, cancelled.text

    firing = settled_firing(api, tom, made.json()["id"], f"action/{action_id}")
    assert firing["state"] == "DONE", firing
    kind, _, incident_id = firing["created"].partition("/")
    incident = api.get(f"/incidents/{incident_id}", headers=tom)
    assert kind == "incident"
    assert incident.json()["subject"] == f"review/{action_id}"
    assert incident.json()["created_by"] == "trigger:cancelled-kill-switch-incident@v1"


def test_an_executed_kill_switch_produces_a_verifiable_evidence_pack(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    tom, bob = auth_header("tom", "trader"), auth_header("bob", "ops")
    carol = auth_header("carol", "compliance")
    action_id = proposed_action(api, tom, "MOMENTUM-7")
    for approver in (bob, carol):
        voted = api.post(
            f"/agent/ops/actions/{action_id}/approve", json={"comment": "stop it"}, headers=approver
        )
        assert voted.status_code == 200, voted.text
    # bob carries it out by hand, so bob is the one who records how it ended.
    started = api.post(f"/agent/ops/actions/{action_id}/execution", headers=bob)
    assert started.status_code == 200, started.text
    done = api.post(
        f"/agent/ops/actions/{action_id}/execution/result",
        json={"outcome": "EXECUTED"},
        headers=bob,
    )
    assert done.status_code == 200, done.text

    rule = trigger_named(api, carol, "kill-switch-evidence")
    firing = settled_firing(api, carol, rule["id"], f"action/{action_id}")
    assert firing["state"] == "DONE", firing
    export = api.get(f"/exports/{firing['created'].partition('/')[2]}", headers=carol).json()
    assert export["requested_by"] == "trigger:kill-switch-evidence@v1"
    directory = Path(stack.env["TRADEOPS_EXPORT_DIR"]) / export["directory"]
    _verifies_with_standard_tools(directory)
    [action] = _lines(directory / "action.jsonl")
    assert {v["voter"] for v in action["votes"]} == {"bob", "carol"}
    records = _lines(directory / "audit_records.jsonl")
    executed = [r for r in records if r["record"]["event"]["action"] == "ops.action.executed"]
    assert executed
    assert all(r["inclusion_proof"] for r in records)
    fired = _fired_records(api, carol, firing["id"])
    assert fired["event"]["actor"]["subject"] == "trigger:kill-switch-evidence@v1"
    payload = json.loads(fired["event"]["payload_json"])
    assert (payload["trigger_version"], payload["event_id"]) == (1, firing["event_id"])


def _verifies_with_standard_tools(directory: Path) -> None:
    signature = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-rawin",
            "-pubin",
            "-inkey",
            "key.pub.pem",
            "-in",
            "manifest.json",
            "-sigfile",
            "manifest.json.sig",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert signature.returncode == 0, signature.stdout + signature.stderr
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _fired_records(api: httpx.Client, headers: dict[str, str], firing_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        page = api.get(
            "/audit/records",
            params={"after_seq": -1, "limit": 500, "target": f"trigger_firing/{firing_id}"},
            headers=headers,
        )
        found = [
            r
            for r in page.json().get("records", [])
            if r["event"]["action"] == "agent.trigger.fired"
        ]
        return found[0] if found else None

    return eventually(probe, what="the firing's audit record")
