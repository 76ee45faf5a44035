"""Signing in to the console through a real OpenID Connect provider (oidc-provider on Node), in
Debian's chromium: the provider's own login form, the code flow with PKCE, the session cookie the
gateway then sets, and the ways a sign-in must fail without changing anything."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import httpx
import jwt
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import Browser, BrowserContext, Page

from gateway.console import session
from gateway.console.oidc import flow as flows
from runtime.auth import TokenVerifier
from tests.browser import Watched, watched_page
from tests.console.conftest import Console


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    with watched_page(browser) as page:
        yield page


def open_sign_in(page: Page, console: Console, next_path: str = "/console/") -> None:
    page.goto(f"{console.url}/console/signin/oidc?next={quote(next_path, safe='')}")
    page.wait_for_selector("input[name=login]")


def type_account(page: Page, account: str) -> None:
    """The provider's development login form: the account's name, and any password."""
    page.fill("input[name=login]", account)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def sign_in(page: Page, console: Console, account: str, next_path: str = "/console/") -> None:
    open_sign_in(page, console, next_path)
    type_account(page, account)
    page.wait_for_url(f"{console.url}/console/**")


def cookies(context: BrowserContext, console: Console) -> dict[str, Any]:
    """The gateway's cookies a request to the callback would carry: the session's and the
    sign-in in progress's (their paths, /console and /console/signin, both cover it)."""
    found = context.cookies(f"{console.url}/console/signin/oidc/callback")
    return {cookie["name"]: cookie for cookie in found}


def session_of(context: BrowserContext, console: Console) -> session.Session:
    found = console.session(cookies(context, console)[session.COOKIE]["value"])
    assert found is not None
    return found


def flow_of(console: Console, cookie: str) -> flows.Flow:
    fields = console.sealer.open_value(cookie, flows.PURPOSE)
    assert fields is not None
    return flows.Flow(**fields)


def provider_answer(browser: httpx.Client, console: Console, account: str) -> str:
    """What a browser does, up to the provider's answer and not into it: starts a sign-in at the
    gateway, types the account on the provider's login form, follows the provider's redirects
    and returns the callback URL it ends at (with the code, state and iss)."""
    callback = f"{console.url}/console/signin/oidc/callback"
    reply = browser.get("/console/signin/oidc")
    for _ in range(10):
        if not reply.is_redirect:
            action = re.search(r'<form[^>]* action="([^"]+)"', reply.text)
            assert action is not None, reply.text
            form = {"prompt": "login", "login": account, "password": "any password"}
            reply = browser.post(urljoin(str(reply.url), action[1]), data=form)
            continue
        location = urljoin(str(reply.url), reply.headers["location"])
        if location.startswith(callback):
            return location
        reply = browser.get(location)
    raise AssertionError("the provider never sent the browser back")


def exchanges(console: Console, code: str, *extra: dict[str, str]) -> list[dict[str, str]]:
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{console.url}/console/signin/oidc/callback",
    }
    return [{**base, **more} for more in extra]


def test_a_person_signs_in_at_the_provider_and_holds_a_session_with_their_access_token(
    console: Console, watched: Watched, tmp_path: Path
) -> None:
    page = watched.page
    open_sign_in(page, console)
    page.screenshot(path=tmp_path / "provider-login.png", full_page=True)
    assert page.url.startswith(console.peer.issuer)

    type_account(page, "alice")
    page.wait_for_url(f"{console.url}/console/")
    page.screenshot(path=tmp_path / "signed-in.png", full_page=True)

    jar = cookies(page.context, console)
    cookie = jar[session.COOKIE]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/console")
    assert cookie["secure"] is False  # plain http to 127.0.0.1 only
    assert flows.COOKIE not in jar  # the sign-in in progress ended with it
    signed_in = session_of(page.context, console)
    assert (signed_in.subject, signed_in.roles) == ("alice", ("ops",))
    verifier: TokenVerifier = console.app.state.verifier
    principal = verifier.verify(signed_in.token)
    assert (principal.subject, principal.kind) == ("alice", "person")
    assert principal.roles == frozenset({"ops"})
    claims = jwt.decode(signed_in.token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == (console.peer.issuer, "tradeops")
    assert signed_in.expires_at <= claims["exp"]
    assert ("console.signed_in", "alice") in console.audit.actions()
    hosts = {urlsplit(url).netloc for url in watched.requests}
    assert hosts == {urlsplit(console.url).netloc, urlsplit(console.peer.issuer).netloc}


def test_signing_in_again_replaces_the_session_with_a_new_one(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    sign_in(page, console, "bob")
    first = cookies(page.context, console)[session.COOKIE]["value"]

    # The provider remembers bob: no form this time, straight back to the console.
    page.goto(f"{console.url}/console/signin/oidc")
    page.wait_for_url(f"{console.url}/console/")

    again = cookies(page.context, console)[session.COOKIE]["value"]
    assert again != first
    old, new = console.session(first), console.session(again)
    assert old is not None
    assert new is not None
    assert new.subject == "bob"
    assert new.csrf != old.csrf


def test_the_authorization_request_carries_the_s256_challenge_of_the_flows_own_verifier(
    console: Console,
) -> None:
    with httpx.Client(base_url=console.url) as client:
        started = client.get("/console/signin/oidc", params={"next": "/console/inbox?x=1"})

    assert started.status_code == 302
    query = parse_qs(urlsplit(started.headers["location"]).query)
    flow = flow_of(console, started.cookies[flows.COOKIE])
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [create_s256_code_challenge(flow.verifier)]
    assert query["state"] == [flow.state]
    assert query["nonce"] == [flow.nonce]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{console.url}/console/signin/oidc/callback"]
    assert flow.next == "/console/inbox?x=1"
    cookie = started.headers["set-cookie"].lower()
    for attribute in ("path=/console/signin", "max-age=600", "httponly", "samesite=lax"):
        assert attribute in cookie


def test_the_provider_refuses_the_code_without_the_flows_verifier(console: Console) -> None:
    """PKCE in use: the code, even with the client's secret, buys nothing without the verifier
    that stayed in the person's sealed cookie."""
    token_endpoint = str(console.peer.discovery()["token_endpoint"])
    with httpx.Client(base_url=console.url) as browser:
        answer = provider_answer(browser, console, "vic")
        code = parse_qs(urlsplit(answer).query)["code"][0]
        refused = [
            httpx.post(
                token_endpoint, data=form, auth=(console.peer.client_id, console.peer.secret)
            )
            for form in exchanges(console, code, {}, {"code_verifier": "a" * 48})
        ]
        signed_in = browser.get(answer)

    assert [reply.status_code for reply in refused] == [400, 400]
    assert [reply.json()["error"] for reply in refused] == ["invalid_grant", "invalid_grant"]
    assert signed_in.status_code == 303
    found = console.session(signed_in.cookies[session.COOKIE])
    assert found is not None
    assert (found.subject, found.roles) == ("vic", ("viewer",))


def test_an_answer_with_another_state_is_refused_and_changes_nothing(console: Console) -> None:
    with httpx.Client(base_url=console.url) as browser:
        answer = provider_answer(browser, console, "alice")
        url = urlsplit(answer)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        tampered = url._replace(query=urlencode({**query, "state": "x" + query["state"][1:]}))
        refused = browser.get(tampered.geturl())
        then = browser.get(answer)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "BAD_STATE"
    assert "set-cookie" not in refused.headers
    assert then.status_code == 303  # the sign-in in progress was left as it was
    assert session.COOKIE in then.cookies


def test_a_replayed_answer_is_refused_with_or_without_its_flow_cookie(console: Console) -> None:
    with httpx.Client(base_url=console.url) as browser:
        answer = provider_answer(browser, console, "carol")
        flow_cookie = browser.cookies[flows.COOKIE]
        signed_in = browser.get(answer)
        again = browser.get(answer)  # the flow cookie went with the sign-in
        browser.cookies.set(flows.COOKIE, flow_cookie, path=flows.PATH)
        replayed = browser.get(answer)  # the whole request again: the code is used up
        session_cookie = browser.cookies[session.COOKIE]

    assert signed_in.status_code == 303
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "SIGNIN_EXPIRED"
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "IDP_REFUSED"
    assert "invalid_grant" in replayed.json()["error"]["message"]
    assert "set-cookie" not in again.headers
    assert "set-cookie" not in replayed.headers
    assert session_cookie == signed_in.cookies[session.COOKIE]


def test_an_id_token_for_another_sign_in_is_refused(console: Console) -> None:
    """The nonce: an ID token issued for another authorization request (here: the flow's own
    nonce swapped in the cookie, which only the gateway's key can do) never signs anyone in."""
    with httpx.Client(base_url=console.url) as browser:
        answer = provider_answer(browser, console, "bob")
        flow = flow_of(console, browser.cookies[flows.COOKIE])
        other = dataclasses.replace(flow, nonce="another-sign-in")
        sealed = console.sealer.seal_value(dataclasses.asdict(other), flows.PURPOSE)
        browser.cookies.delete(flows.COOKIE)
        browser.cookies.set(flows.COOKIE, sealed, path=flows.PATH)
        refused = browser.get(answer)

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "ID_TOKEN_REFUSED"
    assert "nonce" in refused.json()["error"]["message"]
    assert "set-cookie" not in refused.headers


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/console/"])
def test_signing_in_never_leads_off_the_console(
    console: Console, watched: Watched, elsewhere: str
) -> None:
    sign_in(watched.page, console, "carol", next_path=elsewhere)

    assert watched.page.url == f"{console.url}/console/"
    assert "evil.example" not in {urlsplit(url).hostname for url in watched.requests}


def test_a_provider_error_is_shown_and_changes_nothing(console: Console) -> None:
    with httpx.Client(base_url=console.url) as client:
        started = client.get("/console/signin/oidc")
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        answer = {"error": "access_denied", "error_description": "End-User aborted", "state": state}
        refused = client.get("/console/signin/oidc/callback", params=answer)
        page = client.get(
            "/console/signin/oidc/callback", params=answer, headers={"Accept": "text/html"}
        )

    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "IDP_ERROR",
        "message": "the identity provider answered access_denied: End-User aborted",
    }
    assert "set-cookie" not in refused.headers
    assert page.status_code == 400
    assert "<h1>Sign-in failed</h1>" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_cancelling_at_the_provider_says_why_and_signs_nobody_in(
    console: Console, watched: Watched
) -> None:
    page = watched.page
    open_sign_in(page, console)
    with page.expect_response(lambda reply: "/callback" in reply.url) as answered:
        page.click("text=[ Cancel ]")

    assert answered.value.status == 400
    reason = page.locator("#reason").inner_text()
    assert reason == "the identity provider answered access_denied: End-User aborted interaction"
    assert session.COOKIE not in cookies(page.context, console)


def test_an_ended_flow_is_refused(console: Console) -> None:
    ended = dataclasses.replace(
        flows.new_flow("/console/", f"{console.url}/console/signin/oidc/callback"), expires_at=1
    )
    cookie = console.sealer.seal_value(dataclasses.asdict(ended), flows.PURPOSE)
    with httpx.Client(base_url=console.url, cookies={flows.COOKIE: cookie}) as client:
        refused = client.get(
            "/console/signin/oidc/callback", params={"code": "c", "state": ended.state}
        )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "SIGNIN_EXPIRED"


def test_an_access_token_the_gateway_would_refuse_gives_no_session(
    console: Console, watched: Watched
) -> None:
    verifier = console.app.state.verifier
    auth = console.app.state.settings.auth
    elsewhere = dataclasses.replace(auth.oidc, audience="not-tradeops")
    console.app.state.verifier = TokenVerifier(dataclasses.replace(auth, oidc=elsewhere))
    try:
        with watched.page.expect_response(lambda reply: "/callback" in reply.url) as answered:
            open_sign_in(watched.page, console)
            type_account(watched.page, "bob")
    finally:
        console.app.state.verifier = verifier

    assert answered.value.status == 401
    assert "access token was refused" in watched.page.locator("#reason").inner_text()
    assert session.COOKIE not in cookies(watched.page.context, console)
