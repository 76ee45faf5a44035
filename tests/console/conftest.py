"""The console's sign-in against a real identity provider (tests/console/oidc_peer.py): a gateway
served by uvicorn on a socket bound before either starts (the provider must know the callback
URL, the gateway the provider), in a thread of this process, so a test can read the app's own
state: its session sealer, its token verifier."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from gateway.app import create_app
from gateway.console import session
from gateway.console.oidc import router as oidc_router
from gateway.console.session import Sealer, Session
from runtime.settings import SERVICES, ConsoleSettings, GatewaySettings, OidcSettings
from tests.console.oidc_peer import AUDIENCE, OidcPeer
from tests.console.oidc_peer import oidc_peer as oidc_peer
from tests.keys import Keys

STARTED_WITHIN_S = 10.0


@dataclass(frozen=True)
class Console:
    app: FastAPI
    url: str  # http://127.0.0.1:PORT
    peer: OidcPeer

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
    app = console_app(settings_for(keys, oidc_peer))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [console_socket]})
    thread.start()
    try:
        _wait_started(server, thread)
        yield Console(app, f"http://127.0.0.1:{console_socket.getsockname()[1]}", oidc_peer)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def settings_for(keys: Keys, peer: OidcPeer | None) -> GatewaySettings:
    """People's tokens from the provider (none: from the local issuer, and no sign-in through a
    provider); no service runs, as signing in calls none."""
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
        peers={name: "127.0.0.1:1" for name in SERVICES},
        auth=auth,
        rpc_timeout_s=3.0,
        max_body_bytes=64 * 1024,
        console=console,
    )


def console_app(settings: GatewaySettings) -> FastAPI:
    """The gateway with the sign-in routes, wherever create_app does not include them yet, and
    a page at /console/ saying who is signed in where no console page is there yet."""
    app = create_app(settings)
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/console/signin/oidc" not in paths:
        app.include_router(oidc_router)
    if "/console/" not in paths:
        app.add_api_route("/console/", _who, methods=["GET"], include_in_schema=False)
    if not hasattr(app.state, "console_sealer"):
        app.state.console_sealer = Sealer(os.urandom(32))
    return app


async def _who(request: Request) -> HTMLResponse:
    found = session.read(request)
    who = f"{found.subject} ({', '.join(found.roles)})" if found else "nobody"
    return HTMLResponse(
        f'<!doctype html><html lang="en"><title>tradeops console</title>'
        f'<main><h1>tradeops console</h1><p id="who">Signed in: {escape(who)}</p></main></html>'
    )


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTED_WITHIN_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console's gateway did not start")
        time.sleep(0.05)
