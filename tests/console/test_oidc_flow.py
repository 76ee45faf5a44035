"""The console's sign-in without a provider running: where it may send the person afterwards,
the sealed sign-in in progress, what a discovery document must say, and the gateway's answers
when no provider is configured or the egress policy forbids asking it."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import httpx
import pytest

from gateway.console import guard, session
from gateway.console.oidc import flow as flows
from gateway.console.oidc.discovery import endpoints_of
from gateway.console.oidc.failures import SignInFailed
from runtime import egress
from runtime.console_settings import ConsoleSettings
from runtime.settings import OidcSettings
from tests.console.conftest import console_app, settings_for
from tests.console.oidc_peer import AUDIENCE
from tests.keys import Keys

ISSUER = "https://idp.example"
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/auth",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
}


@pytest.mark.parametrize(
    "asked",
    [
        "https://evil.example/",
        "//evil.example/console/",
        "/\\evil.example/",
        "/console/\\..\\evil",
        "/console/../admin",
        "/console/%2e%2e/admin",
        "/consoleevil",
        "/console/\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "",
    ],
)
def test_after_signing_in_nobody_is_sent_off_the_console(asked: str) -> None:
    assert guard.safe_next(asked) == "/console/"


@pytest.mark.parametrize("asked", ["/console/", "/console/actions/a-1", "/console/inbox?sort=due"])
def test_a_console_page_asked_for_is_where_signing_in_leads(asked: str) -> None:
    assert guard.safe_next(asked) == asked


def test_a_sealed_sign_in_opens_only_as_what_it_was_sealed_for() -> None:
    sealer = session.Sealer(os.urandom(32))
    person = session.new_session("token", "alice", frozenset({"ops"}), 0, 60)
    as_flow = sealer.seal_value({"state": "s"}, flows.PURPOSE)

    assert sealer.open_value(as_flow, flows.PURPOSE) == {"state": "s"}
    assert sealer.open(as_flow) is None
    assert sealer.open_value(sealer.seal(person), flows.PURPOSE) is None
    assert sealer.open_value(as_flow[:-2] + "AA", flows.PURPOSE) is None
    assert session.Sealer(os.urandom(32)).open_value(as_flow, flows.PURPOSE) is None


def test_a_discovery_document_gives_the_endpoints_and_how_to_authenticate() -> None:
    found = endpoints_of(DISCOVERY, ISSUER)
    posting = endpoints_of(
        {
            **DISCOVERY,
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"],
        },
        ISSUER,
    )

    assert (found.token, found.jwks, found.auth_method) == (
        f"{ISSUER}/token",
        f"{ISSUER}/jwks",
        "client_secret_basic",
    )
    assert found.algorithms == ("RS256",)
    assert posting.auth_method == "client_secret_post"


@pytest.mark.parametrize(
    "document",
    [
        {**DISCOVERY, "issuer": "https://other.example"},
        {key: value for key, value in DISCOVERY.items() if key != "token_endpoint"},
        {**DISCOVERY, "token_endpoint_auth_methods_supported": ["private_key_jwt"]},
        {**DISCOVERY, "id_token_signing_alg_values_supported": ["none", "HS256"]},
    ],
)
def test_a_provider_we_cannot_sign_in_with_is_said_to_be_one(document: dict[str, object]) -> None:
    with pytest.raises(SignInFailed) as failed:
        endpoints_of(document, ISSUER)

    assert (failed.value.status, failed.value.code) == (502, "IDP_MISCONFIGURED")


async def test_without_a_provider_there_is_no_sign_in_through_one(keys: Keys) -> None:
    transport = httpx.ASGITransport(app=console_app(settings_for(keys, None)))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        refused = await client.get("/console/signin/oidc")

    assert refused.status_code == 404
    assert refused.json()["error"]["message"] == "no identity provider is configured"


async def test_the_provider_is_asked_nothing_where_the_egress_policy_refuses_it(
    keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    """192.0.2.0/24 (TEST-NET-1) only: the provider listening on this machine is out of bounds,
    and no connection reaches it."""
    with socket.socket() as provider:
        provider.bind(("127.0.0.1", 0))
        provider.listen()
        issuer = f"http://127.0.0.1:{provider.getsockname()[1]}"
        policy = egress.parse("192.0.2.0/24")
        oidc = OidcSettings(f"{issuer}/jwks", issuer, AUDIENCE, egress=policy)
        console = ConsoleSettings(oidc_client_id="c", oidc_client_secret_file=Path("unused"))
        settings = settings_for(keys, None)
        auth = dataclasses.replace(settings.auth, oidc=oidc)
        app = console_app(dataclasses.replace(settings, auth=auth, console=console))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            refused = await client.get("/console/signin/oidc")
        provider.setblocking(False)
        with pytest.raises(BlockingIOError):
            provider.accept()

    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "IDP_MISCONFIGURED"
    assert "127.0.0.1" not in refused.text
    assert "is not allowed by TRADEOPS_EGRESS_ALLOW: nothing was sent" in caplog.text
    assert "set-cookie" not in refused.headers
