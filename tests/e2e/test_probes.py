"""A scheduled probe through the real processes: an admin defines it over REST, the agent's
worker finds the desk system failing, opens one incident (triaged like any other), keeps it
while failing and resolves it on recovery; the audit service holds every step with the probe's
name and version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.agent.probes.desk import running_desk
from tests.e2e.conftest import eventually

Headers = Callable[..., dict[str, str]]


def definition(url: str) -> dict[str, Any]:
    return {
        "name": "e2e-feed-lag",
        "url": f"{url}/health",
        "reading": {"type": "json", "path": "$.feeds[0].lag_ms"},
        "rule": {"type": "threshold", "op": ">", "value": 500},
        "interval_s": 1,
        "timeout_s": 0.5,
        "incident": {
            "kind": "market_data_latency",
            "desk": "equities",
            "subject": "E2E-ITCH",
            "summary": "Feed lag {value} ms ({probe} v{version})",
        },
    }


def probe_incidents(api: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = api.get("/incidents", params={"limit": 500}, headers=headers)
    assert page.status_code == 200, page.text
    return [i for i in page.json()["incidents"] if i["source"] == "probe:e2e-feed-lag"]


def audited(api: httpx.Client, headers: dict[str, str], **match: str) -> list[dict[str, Any]]:
    """The audited events matching `match` (target, action), oldest first."""
    page = api.get(
        "/audit/records", params={"after_seq": -1, "limit": 500, **match}, headers=headers
    )
    assert page.status_code == 200, page.text
    return [record["event"] for record in page.json().get("records", [])]


def recovered_steps(
    api: httpx.Client, headers: dict[str, str], target: str
) -> list[dict[str, Any]] | None:
    found = audited(api, headers, target=target)
    return found if "agent.probe.incident_recovered" in {e["action"] for e in found} else None


def test_a_failing_desk_system_opens_one_incident_that_the_probe_resolves(
    api: httpx.Client, auth_header: Headers
) -> None:
    admin, viewer = auth_header("ada", "admin"), auth_header("vic", "viewer")
    with running_desk() as desk:
        desk.flip(body='{"feeds": [{"lag_ms": 900}]}')
        created = api.post("/probes", json=definition(desk.url), headers=admin)
        assert created.status_code == 201, created.text
        assert api.post("/probes", json=definition(desk.url), headers=viewer).status_code == 403
        probe_id = created.json()["id"]

        [incident] = eventually(lambda: probe_incidents(api, viewer), what="an incident")
        eventually(lambda: len(desk.hits) >= 4, what="three more failing runs")
        desk.flip(body='{"feeds": [{"lag_ms": 20}]}')
        resolved = eventually(
            lambda: [i for i in probe_incidents(api, viewer) if i.get("resolved_at")],
            what="recovery",
        )
        disabled = api.post(f"/probes/{probe_id}/disable", headers=admin)

    assert [i["id"] for i in resolved] == [incident["id"]]
    assert incident["created_by"] == "probe:e2e-feed-lag@v1"
    assert "probe:e2e-feed-lag@v1 passed" in resolved[0]["resolution"]
    assert resolved[0]["occurrences"] >= 3
    assert disabled.json()["version"] == 2
    runs = api.get(f"/probes/{probe_id}/runs", headers=viewer).json()["runs"]
    assert {r["incident_step"] for r in runs} >= {"opened", "updated", "recovered"}
    target = f"incident/{incident['id']}"
    actions = eventually(lambda: recovered_steps(api, viewer, target), what="the audited steps")
    by_action = {r["action"]: r for r in actions}
    assert by_action["agent.incident.created"]["actor"]["subject"] == "probe:e2e-feed-lag@v1"
    assert by_action["agent.probe.incident_opened"]["actor"]["subject"] == "probe:e2e-feed-lag@v1"
    refused = audited(api, viewer, action="gateway.access.denied", target="route POST /probes")
    assert {e["actor"]["subject"] for e in refused} == {"vic"}
    decisions = audited(api, viewer, action="agent.triage.decided")
    assert any(incident["id"] in r.get("payload_json", "") for r in decisions), "not triaged"
