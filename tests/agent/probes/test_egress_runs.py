"""Probe runs under the egress policy (TRADEOPS_EGRESS_ALLOW): a host outside it fails the run
with the policy's reason and the server never hears from the agent; a redirect is not
followed."""

from __future__ import annotations

import httpx

from runtime.db import Database
from runtime.egress import parse
from services.agent.probes.workers.probes import ProbeWorker, WorkerOptions
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, latency_probe, put


def worker(db: Database, clock: Clock, allow: str) -> ProbeWorker:
    return ProbeWorker(db, WorkerOptions(egress=parse(allow)), clock=clock)


async def test_a_probe_outside_the_policy_fails_with_the_reason_and_makes_no_request(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    by_name = latency_probe(desk.url.replace("127.0.0.1", "localhost"), name="by-name")
    await put(agent_db, by_name, clock)

    runs = {r.probe_name: r for r in await worker(agent_db, clock, "10.0.0.0/8").run_once(http)}

    assert runs["md-latency"].status == "failing"
    assert runs["md-latency"].error == (
        "url host 127.0.0.1 is not allowed by TRADEOPS_EGRESS_ALLOW"
    )
    assert runs["by-name"].status == "failing"
    assert runs["by-name"].error.startswith("url host localhost (")
    assert runs["by-name"].error.endswith(") is not allowed by TRADEOPS_EGRESS_ALLOW")
    assert desk.hits == []


async def test_a_probe_inside_the_policy_runs_as_usual(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)

    [run] = await worker(agent_db, clock, "127.0.0.1/32").run_once(http)

    assert (run.status, run.value, run.error) == ("ok", 12.0, "")
    assert desk.hits == ["/health"]


async def test_a_redirect_is_not_followed_even_by_a_client_that_would(
    agent_db: Database, desk: Desk
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    desk.flip(status=302, location=f"{desk.url}/elsewhere")

    async with httpx.AsyncClient(follow_redirects=True) as following:
        [run] = await ProbeWorker(agent_db, clock=clock).run_once(following)

    assert (run.status, run.error) == ("failing", "HTTP 302 Found")
    assert desk.hits == ["/health"]
