"""Signing in to the console through the identity provider (OpenID Connect, the authorization
code flow with PKCE): `GET /console/signin/oidc?next=/console/...` sends the browser to the
provider; the provider sends it back to `GET /console/signin/oidc/callback`, which exchanges the
code, checks the ID token, has the gateway's own verifier check the access token (the token
the services will check on every call) and starts a new session with it.

A failure answers 400 (the request or the sign-in in progress is not one we can go on with),
401 (the provider or the verifier refused), 404 (no provider configured) or 5xx (the provider
could not be reached or used), as a page for a browser and as the API's JSON error otherwise,
and changes no cookie. Nothing secret is logged: no code, verifier, token or client secret."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

import jwt
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from gateway.console import audit, session
from gateway.console.guard import HOME, safe_next
from gateway.console.oidc import flow as flows
from gateway.console.oidc.failures import SignInFailed, answer
from gateway.console.oidc.flow import Flow, new_flow
from gateway.console.oidc.provider import IdentityProvider
from runtime.auth import Principal, TokenVerifier
from runtime.errors import Unauthenticated
from runtime.settings import GatewaySettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/signin/oidc", name="console_oidc_signin")
async def sign_in(
    request: Request, next_path: Annotated[str, Query(alias="next")] = HOME
) -> Response:
    try:
        provider = _provider(request)
        flow = new_flow(safe_next(next_path), _redirect_uri(request))
        response = RedirectResponse(await provider.authorization_url(flow), status_code=302)
    except SignInFailed as failed:
        return answer(request, failed)
    flows.write(request, response, flow)
    return response


@router.get("/signin/oidc/callback", name="console_oidc_callback")
async def callback(request: Request) -> Response:
    try:
        flow = _flow_of(request)
        token = await _provider(request).exchange(_code(request, flow), flow)
        principal = await _verified(request, token)
    except SignInFailed as failed:
        return answer(request, failed)
    await audit.record(request, principal, "console.signed_in", {"via": "oidc"})
    settings: GatewaySettings = request.app.state.settings
    person = session.new_session(
        token, principal.subject, principal.roles, _expiry(token), settings.console.session_ttl_s
    )
    response = RedirectResponse(request.scope.get("root_path", "") + flow.next, status_code=303)
    session.write(request, response, person)  # a new cookie: any earlier session is replaced
    flows.clear(request, response)
    log.info("console sign-in: %s through the identity provider", principal.subject)
    return response


def _provider(request: Request) -> IdentityProvider:
    """Made on first use, and kept: it caches the provider's discovery document."""
    state = request.app.state
    provider: IdentityProvider | None = getattr(state, "console_idp", None)
    if provider is None:
        settings: GatewaySettings = state.settings
        console = settings.console
        if settings.auth.oidc is None or not console.oidc_client_id:
            raise SignInFailed(404, "NOT_FOUND", "no identity provider is configured")
        if console.oidc_client_secret_file is None:
            raise SignInFailed(500, "CONSOLE_MISCONFIGURED", "the console has no client secret")
        provider = state.console_idp = IdentityProvider(settings.auth.oidc, console)
    return provider


def _redirect_uri(request: Request) -> str:
    settings: GatewaySettings = request.app.state.settings
    return settings.console.oidc_redirect_url or str(request.url_for("console_oidc_callback"))


def _flow_of(request: Request) -> Flow:
    flow = flows.read(request)
    if flow is None:
        raise SignInFailed(400, "SIGNIN_EXPIRED", "no sign-in is in progress here, or it ended")
    return flow


def _code(request: Request, flow: Flow) -> str:
    """The authorization code, from the answer to this browser's own request (its state)."""
    query = request.query_params
    if not hmac.compare_digest(query.get("state", "").encode(), flow.state.encode()):
        raise SignInFailed(400, "BAD_STATE", "this answer is not for the sign-in in progress")
    issuer = request.app.state.settings.auth.oidc.issuer
    if query.get("iss", issuer) != issuer:  # RFC 9207: the answer of another provider (mix-up)
        raise SignInFailed(400, "BAD_ISSUER", "this answer comes from another identity provider")
    if "error" in query:
        said = ": ".join(
            query[name][:200] for name in ("error", "error_description") if name in query
        )
        raise SignInFailed(400, "IDP_ERROR", f"the identity provider answered {said}")
    code = query.get("code", "")
    if not code:
        raise SignInFailed(400, "BAD_REQUEST", "the identity provider sent no code")
    return code


async def _verified(request: Request, token: str) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify_async(token)
    except Unauthenticated as exc:
        log.info("console sign-in: the provider's access token was refused: %s", exc)
        raise SignInFailed(401, "UNAUTHENTICATED", f"the access token was refused: {exc}") from None


def _expiry(token: str) -> int:
    """The verified token's exp (the verifier checked it; 0 if it has none)."""
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
    return int(exp) if isinstance(exp, int | float) else 0
