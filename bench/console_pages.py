"""The console's pages with 100,000 pending actions: p99 of each page a signed-in approver opens
(inbox, its live rows, an action, incidents, audit, exports), against the API's own first page
of pending actions (JSON, same gateway, same person) as the same-run baseline. Target: every
page within 300 ms at p99.

The whole system runs as `make run` runs it (PostgreSQL durable, the four services and the
gateway as processes). One action is proposed for real (an incident reported and triaged by
olga through the API), then copied (COPY, as superuser) to 100,000 pending actions with spread
deadlines, so every page renders rows the services themselves wrote. bob signs in with a
one-time link, as a person does, and reads each page `--calls` times, one after the other."""

from __future__ import annotations

import argparse
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from functools import partial

import httpx
from _common import result, scratch
from _copied_actions import populate
from _keys import BenchKeys
from _ops_stack import p99, whole_system

from runtime import key_dir
from runtime.cli import console_link
from runtime.keys import ISSUER, SigningKey

TARGET_MS = 300.0
INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH latency above 800 ms",
    "metrics": {"latency_ms": 850},
}


def proposed(api: httpx.Client, olga: dict[str, str]) -> str:
    incident = api.post("/incidents", json=INCIDENT, headers=olga).json()
    decision = api.post("/agent/triage", json={"incident_id": incident["id"]}, headers=olga)
    action_id: str = decision.json()["action_id"]
    return action_id


@contextlib.contextmanager
def signed_in(base: str, keys: BenchKeys) -> Iterator[httpx.Client]:
    """bob's browser: the one-time link opened, its button pressed (the session cookie set)."""
    issuer = SigningKey.load(key_dir.private_path(keys.folder, ISSUER), ISSUER)
    link = console_link(base, issuer, keys.env(), "bob", ["ops"])
    with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as client:
        token = re.search(r'name="t" value="([^"]+)"', client.get(link).text)
        assert token, "the link page has no form"
        answer = client.post("/console/link", data={"t": token.group(1)})
        assert answer.status_code == 303, answer.text
        yield client


def timed(call: Callable[[], httpx.Response], calls: int) -> list[float]:
    for _ in range(10):  # warm-up: plans, caches, connections
        call()
    taken = []
    for _ in range(calls):
        began = time.perf_counter()
        answer = call()
        taken.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return taken


def measure(base: str, keys: BenchKeys, action_id: str, calls: int) -> bool:
    bob = {"Authorization": f"Bearer {keys.person('bob', 'ops')}"}
    with httpx.Client(base_url=base, timeout=30) as api:
        pending: dict[str, str | int] = {"state": "PENDING_APPROVAL", "page_size": 50}
        baseline = p99(
            timed(lambda: api.get("/agent/ops/actions", params=pending, headers=bob), calls)
        )
    pages = {
        "inbox": "/console/",
        "inbox_rows": "/console/inbox-rows",
        "action": f"/console/actions/{action_id}",
        "incidents": "/console/incidents",
        "audit": "/console/audit",
        "exports": "/console/exports",
    }
    ok = True
    with signed_in(base, keys) as browser:
        for name, path in pages.items():
            figure = p99(timed(partial(browser.get, path), calls))
            passed = figure <= TARGET_MS
            ok &= passed
            result(f"console_{name}_p99", figure, "ms", baseline, f"<={TARGET_MS:.0f}ms", passed)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with scratch("console") as home, whole_system(home) as whole:
        base, keys = whole.stack.gateway_url(), whole.keys
        olga = {"Authorization": f"Bearer {keys.person('olga', 'ops')}"}
        with httpx.Client(base_url=base, timeout=30) as api:
            action_id = proposed(api, olga)
        populate(whole.admin_url, action_id, args.actions)
        ok = measure(base, keys, action_id, args.calls)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
