"""The console against the whole system: real processes on a PostgreSQL of their own, and
Debian's chromium driving the pages (tests/browser.py). People sign in with one-time links,
as `make run`'s banner and `tradeops console-link` give them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from runtime.cli import console_link
from runtime.keys import ISSUER
from runtime.pgserver import LocalPostgres
from runtime.stack import Stack
from tests.browser import chromium
from tests.e2e.conftest import database, system
from tests.e2e.otlp import OtlpReceiver
from tests.keys import Keys

INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH latency above 800 ms",
    "metrics": {"latency_ms": 850},
}


@pytest.fixture(scope="session")
def console_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with database(tmp_path_factory, "console-pg") as server:
        yield server


@pytest.fixture(scope="session")
def console_stack(
    console_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    receiver = OtlpReceiver()  # the stack exports its spans somewhere local
    receiver.start()
    try:
        with system(console_pg, tmp_path_factory, receiver, keys) as running:
            yield running
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture(scope="session")
def link_for(console_stack: Stack, keys: Keys) -> Callable[..., str]:
    """A one-time sign-in link, as `tradeops console-link --sub S --roles R` prints it."""

    def make(subject: str, *roles: str) -> str:
        issuer = keys.key(ISSUER)
        return console_link(console_stack.gateway_url(), issuer, keys.env(), subject, list(roles))

    return make


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The screenshots of every page, for people to look at."""
    folder = tmp_path_factory.mktemp("console-screenshots")
    print(f"console screenshots in {folder}")
    return folder


def sign_in(page: Page, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Continue as").click()
    page.wait_for_url("**/console/")


@pytest.fixture(scope="session")
def proposed(console_stack: Stack, token_for: Callable[..., str]) -> Callable[[], dict[str, Any]]:
    """An incident reported and triaged by olga (ops): the agent proposes an action, which
    olga requested and so may not approve."""

    def make() -> dict[str, Any]:
        olga = {"Authorization": f"Bearer {token_for('olga', 'ops')}"}
        with httpx.Client(base_url=console_stack.gateway_url(), headers=olga, timeout=15) as api:
            incident = api.post("/incidents", json=INCIDENT).json()
            decision = api.post("/agent/triage", json={"incident_id": incident["id"]}).json()
            action = api.get(f"/agent/ops/actions/{decision['action_id']}").json()
            assert isinstance(action, dict)
            return action

    return make
