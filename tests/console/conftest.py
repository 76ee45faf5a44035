"""The console against the whole system: real processes on a PostgreSQL of their own, and
Debian's chromium driving the pages (tests/browser.py). People sign in with one-time links,
as `make run`'s banner and `tradeops console-link` give them.

The sign-in through a real identity provider (tests/console/oidc_peer.py) has a gateway of its
own, served by uvicorn on a socket bound before either starts (the provider must know the
callback URL, the gateway the provider), in a thread of this process, so a test can read the
app's own state: its session sealer, its token verifier."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page

from gateway.app import create_app
from gateway.console.session import Sealer, Session
from runtime.cli import console_link
from runtime.console_settings import ConsoleSettings
from runtime.keys import ISSUER
from runtime.pgserver import LocalPostgres
from runtime.settings import SERVICES, GatewaySettings, OidcSettings
from runtime.stack import Stack
from tests.browser import chromium
from tests.console.audit_sink import AuditSink, audit_sink
from tests.console.oidc_peer import AUDIENCE, OidcPeer
from tests.console.oidc_peer import oidc_peer as oidc_peer
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One per module: Playwright's sync API holds the thread's event loop while it runs, so it
    must stop before a module of async tests starts pytest-asyncio's."""
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


def open_action(page: Page, link: str, action_id: str) -> None:
    """Signed in with `link`, on the action's page."""
    sign_in(page, link)
    page.goto(page.url + f"actions/{action_id}")


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


STARTED_WITHIN_S = 10.0


@dataclass(frozen=True)
class Console:
    app: FastAPI
    url: str  # http://127.0.0.1:PORT
    peer: OidcPeer
    audit: AuditSink

    @property
    def sealer(self) -> Sealer:
        sealer: Sealer = self.app.state.console_sealer
        return sealer

    def session(self, cookie: str) -> Session | None:
        return self.sealer.open(cookie)


@pytest.fixture(scope="module")
def console_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def console_redirect_uri(console_socket: socket.socket) -> str:
    return f"http://127.0.0.1:{console_socket.getsockname()[1]}/console/signin/oidc/callback"


@pytest.fixture(scope="module")
def console(keys: Keys, oidc_peer: OidcPeer, console_socket: socket.socket) -> Iterator[Console]:
    with audit_sink() as sink:
        app = console_app(settings_for(keys, oidc_peer, sink.address))
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [console_socket]})
        thread.start()
        try:
            _wait_started(server, thread)
            url = f"http://127.0.0.1:{console_socket.getsockname()[1]}"
            yield Console(app, url, oidc_peer, sink)
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def settings_for(keys: Keys, peer: OidcPeer | None, audit: str = "127.0.0.1:1") -> GatewaySettings:
    """People's tokens from the provider (none: from the local issuer, and no sign-in through a
    provider); no service runs but a stand-in audit log, which signing in calls."""
    auth, console = keys.serving("gateway"), ConsoleSettings()
    if peer is not None:
        oidc = OidcSettings(jwks_url=peer.jwks_url, issuer=peer.issuer, audience=AUDIENCE)
        auth = dataclasses.replace(auth, oidc=oidc)
        console = ConsoleSettings(
            oidc_client_id=peer.client_id, oidc_client_secret_file=peer.secret_file
        )
    return GatewaySettings(
        listen_host="127.0.0.1",
        listen_port=0,
        peers={**{name: "127.0.0.1:1" for name in SERVICES}, "audit": audit},
        auth=auth,
        rpc_timeout_s=3.0,
        max_body_bytes=64 * 1024,
        console=console,
    )


def console_app(settings: GatewaySettings) -> FastAPI:
    return create_app(settings)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTED_WITHIN_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console's gateway did not start")
        time.sleep(0.05)
