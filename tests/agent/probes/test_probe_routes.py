"""The probe routes through the real gateway app to a real ProbeService on the test database:
admins define probes, others get 403, everyone lists them, their last result and runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from runtime.db import Database
from runtime.settings import AuthSettings, GatewaySettings
from services.agent.probes.workers.probes import ProbeWorker
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, events
from tests.keys import settings_for

Token = Callable[..., str]


def body(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "oms-rejects",
        "url": f"{url}/metrics",
        "reading": {"type": "prometheus", "metric": "oms_reject_ratio", "labels": {"desk": "eq"}},
        "rule": {"type": "threshold", "op": ">=", "value": 0.05},
        "interval_s": 15,
        "timeout_s": 2,
        "incident": {
            "kind": "order_reject_spike",
            "desk": "equities",
            "subject": "OMS-EQ",
            "summary": "Reject ratio {value} at {url}",
        },
        **changes,
    }


@pytest.fixture
async def rest(probe_address: str, auth_settings: AuthSettings) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        listen_host="127.0.0.1",
        listen_port=0,
        peers={name: probe_address for name in ("agent", "ops", "audit", "export")},
        auth=settings_for("gateway", auth_settings),
        rpc_timeout_s=5.0,
        max_body_bytes=65536,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client


def auth(token_for: Token, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role + '-user', role)}"}


async def test_an_admin_defines_a_probe_and_a_viewer_sees_its_last_result_and_runs(
    rest: httpx.AsyncClient,
    agent_db: Database,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
    token_for: Token,
) -> None:
    created = await rest.post("/probes", json=body(desk.url), headers=auth(token_for, "admin"))
    assert created.status_code == 201, created.text
    probe_id = created.json()["id"]
    desk.flip(body='oms_reject_ratio{desk="eq"} 0.12\n', content_type="text/plain")
    await ProbeWorker(agent_db, clock=clock).run_once(http)
    viewer = auth(token_for, "viewer")

    listed = await rest.get("/probes", headers=viewer)
    one = await rest.get(f"/probes/{probe_id}", headers=viewer)
    runs = await rest.get(f"/probes/{probe_id}/runs", params={"limit": 5}, headers=viewer)

    [probe] = listed.json()["probes"]
    assert probe["definition"]["prometheus"] == {
        "metric": "oms_reject_ratio",
        "labels": {"desk": "eq"},
    }
    assert probe["last_run"]["status"] == "failing"
    assert probe["last_run"]["value"] == 0.12
    next_run = datetime.fromisoformat(probe["next_run_at"].replace("Z", "+00:00"))
    assert next_run == clock.now + timedelta(seconds=15)
    assert [v["change"] for v in one.json()["versions"]] == ["created"]
    assert [r["incident_step"] for r in runs.json()["runs"]] == ["opened"]


@pytest.mark.parametrize("role", ["viewer", "trader", "ops", "compliance"])
async def test_only_an_admin_may_define_change_or_disable_a_probe(
    rest: httpx.AsyncClient, token_for: Token, role: str
) -> None:
    some = "6a1c1b8e-0000-4000-8000-000000000001"
    headers = auth(token_for, role)
    answers = [
        await rest.post("/probes", json=body("http://127.0.0.1:9"), headers=headers),
        await rest.put(f"/probes/{some}", json=body("http://127.0.0.1:9"), headers=headers),
        await rest.post(f"/probes/{some}/disable", headers=headers),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["error"]["code"] for a in answers} == {"PERMISSION_DENIED"}


async def test_a_bad_probe_is_422_and_nothing_is_stored(
    rest: httpx.AsyncClient, agent_db: Database, token_for: Token
) -> None:
    admin = auth(token_for, "admin")
    shapes = [
        body("http://127.0.0.1:9", reading={"type": "xml", "path": "$.a"}),
        body("http://127.0.0.1:9", interval_s="often"),
        body("http://127.0.0.1:9", extra=True),
    ]
    meanings = [
        body("ftp://127.0.0.1:9"),
        body("http://127.0.0.1:9", timeout_s=30),
        body("http://127.0.0.1:9", incident={**body("")["incident"], "kind": "outage"}),
    ]

    for each in shapes + meanings:
        answer = await rest.post("/probes", json=each, headers=admin)
        assert answer.status_code == 422, each
    assert (await rest.get("/probes", headers=admin)).json()["probes"] == []
    assert await events(agent_db, "agent.probe.") == []


async def test_a_probe_at_cloud_metadata_is_422_naming_the_egress_setting_and_nothing_is_stored(
    rest: httpx.AsyncClient, agent_db: Database, token_for: Token
) -> None:
    admin = auth(token_for, "admin")
    urls = ["http://169.254.169.254", "http://[fe80::1]", "http://[::ffff:169.254.169.254]"]

    answers = [await rest.post("/probes", json=body(url), headers=admin) for url in urls]

    assert [a.status_code for a in answers] == [422, 422, 422]
    assert answers[0].json()["error"] == {
        "code": "INVALID_ARGUMENT",
        "message": "url host 169.254.169.254 is not allowed by TRADEOPS_EGRESS_ALLOW",
    }
    assert "TRADEOPS_EGRESS_ALLOW" in answers[2].json()["error"]["message"]
    assert (await rest.get("/probes", headers=admin)).json()["probes"] == []
    assert await events(agent_db, "agent.probe.") == []
