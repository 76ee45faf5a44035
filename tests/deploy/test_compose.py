"""docker-compose.yml, started for real from the image deploy/Dockerfile builds and the secrets
`tradeops deploy init` makes: the README's walkthrough against the published gateway (an action
needing two people's approvals, audit verification, a signed export that openssl verifies with
the published key), then one service killed and started again, losing nothing acknowledged."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.compose import Compose, timed

INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH latency above 800 ms",
    "metrics": {"latency_ms": 850},
}
TWO_PEOPLE = {
    "action_kind": "failover_market_data_feed",
    "approvals_required": 2,
    "rejections_to_reject": 1,
    "pending_ttl_s": 3600,
    "validity_s": 600,
    "change_reason": "two people for every feed failover",
}
# Filled by the walkthrough, checked again after the restart.
SEEN: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api(compose: Compose) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{compose.port}", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def people(token: Callable[..., str]) -> dict[str, dict[str, str]]:
    roles = {"olga": "ops", "bob": "ops", "dave": "ops", "carol": "compliance", "ann": "admin"}
    return {who: {"Authorization": f"Bearer {token(who, role)}"} for who, role in roles.items()}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def audit_actions(api: httpx.Client, headers: dict[str, str], target: str) -> list[list[Any]]:
    query: dict[str, str | int] = {"after_seq": -1, "limit": 500, "target": target}
    records = ok(api.get("/audit/records", params=query, headers=headers)).get("records", [])
    return [[r["seq"], r["event"]["action"]] for r in records]


def eventually(probe: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_walkthrough_runs_against_the_published_gateway(
    api: httpx.Client, people: dict[str, dict[str, str]], compose: Compose, tmp_path: Path
) -> None:
    timed("walkthrough", lambda: walkthrough(api, people, compose, tmp_path))


def walkthrough(
    api: httpx.Client, people: dict[str, dict[str, str]], compose: Compose, tmp_path: Path
) -> None:
    olga, bob, dave, carol = (people[p] for p in ("olga", "bob", "dave", "carol"))
    assert ok(api.get("/readyz"))["status"] == "ready"
    ok(api.put("/agent/ops/policies/feed-failover", json=TWO_PEOPLE, headers=people["ann"]))

    incident = ok(api.post("/incidents", json=INCIDENT, headers=olga), 201)
    decision = ok(
        api.post("/agent/triage", json={"incident_id": incident["id"]}, headers=olga), 201
    )
    action_id = decision["action_id"]
    approve = f"/agent/ops/actions/{action_id}/approve"
    assert api.post(approve, json={}, headers=olga).status_code == 403  # her own request
    first = ok(api.post(approve, json={"comment": "desk confirms"}, headers=bob))
    assert (first["state"], first["approvals"], first["approvals_required"]) == (
        "PENDING_APPROVAL",
        1,
        2,
    )
    assert ok(api.post(approve, json={}, headers=dave))["state"] == "APPROVED"

    trail = eventually(
        lambda: [a for a in audit_actions(api, bob, f"action/{action_id}") if "approved" in a[1]],
        "the approval in the audit log",
    )
    assert ok(api.post("/audit/verify", headers=carol))["ok"] is True
    SEEN.update(incident=incident["id"], action=action_id, trail=trail)

    body = {"kind": "audit_extract", "from_seq": 0, "to_seq": -1}
    export = ok(api.post("/exports", json=body, headers=carol), 201)
    assert export["state"] == "SIGNED"
    published = ok(api.get("/exports/keys", headers=carol))["keys"][0]
    generated = json.loads((compose.secrets / "export-verify-keys.json").read_text())[0]
    assert published["key_id"] == generated["key_id"]  # signed with the key deploy init made
    (tmp_path / "key.pem").write_text(published["pem"])
    folder = compose.copy_out(
        "export", f"/var/lib/tradeops/exports/{export['directory']}", tmp_path / "export"
    )
    signature = subprocess.run(
        [
            *("openssl", "pkeyutl", "-verify", "-rawin", "-pubin"),
            *("-inkey", str(tmp_path / "key.pem")),
            *("-in", "manifest.json", "-sigfile", "manifest.json.sig"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert "Signature Verified Successfully" in signature.stdout, signature.stderr
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert sums.returncode == 0, sums.stdout
    data = (folder / export["file_name"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == export["sha256"]
    assert len(data.splitlines()) == export["record_count"] > 0


def test_a_killed_service_comes_back_with_everything_acknowledged(
    api: httpx.Client, people: dict[str, dict[str, str]], compose: Compose
) -> None:
    assert SEEN, "the walkthrough did not get far enough to leave anything to check"
    bob, carol = people["bob"], people["carol"]
    compose.run("kill", "ops")  # SIGKILL: no shutdown of its own
    assert compose.states()["ops"].startswith("exited")
    timed("ops killed, started, healthy", lambda: compose.start("ops"))

    assert ok(api.get(f"/incidents/{SEEN['incident']}", headers=bob))["id"] == SEEN["incident"]
    action = ok(api.get(f"/agent/ops/actions/{SEEN['action']}", headers=bob))
    assert (action["state"], action["approvals"]) == ("APPROVED", 2)
    after = audit_actions(api, bob, f"action/{SEEN['action']}")
    assert all(entry in after for entry in SEEN["trail"]), (SEEN["trail"], after)
    assert ok(api.post("/audit/verify", headers=carol))["ok"] is True
    # And the restarted ops takes new work: a second incident's triage proposes through it.
    incident = ok(api.post("/incidents", json=INCIDENT, headers=people["olga"]), 201)
    triage = {"incident_id": incident["id"]}
    assert ok(api.post("/agent/triage", json=triage, headers=people["olga"]), 201)["action_id"]


def test_the_image_serves_the_api_docs_and_every_file_they_load(api: httpx.Client) -> None:
    """The image installs the project as a wheel: the docs' files must be in it (package data)."""
    page = api.get("/docs")
    assert page.status_code == 200
    files = re.findall(r'(?:src|href)="(docs/assets/[^"]+)"', page.text)
    assert len(files) == 4
    for file in files:
        response = api.get(f"/{file}")
        assert response.status_code == 200, file
        assert len(response.content) > 500, file


def test_the_gateway_seals_console_sessions_with_the_deployments_key(compose: Compose) -> None:
    """deploy init's console-session.key, mounted: sessions hold on every gateway replica and
    across restarts (without it the gateway makes a key of its own and says so)."""
    logs = compose.run("logs", "--no-color", "gateway")
    assert "Uvicorn running" in logs or "Application startup complete" in logs, logs[-2000:]
    assert "TRADEOPS_CONSOLE_SESSION_KEY_FILE is not set" not in logs
