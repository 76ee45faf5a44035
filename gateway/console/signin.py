"""Signing in and out. With an identity provider configured, the sign-in page sends people to
it (gateway.console.oidc); without one (`make run`), a one-time link from `tradeops
console-link` signs a person in: opening it shows whom it signs in, and the button posts it, so
a link previewer fetching the URL does not use it up.

A link works once: its use is an audit event whose id is derived from the link's token, and the
audit service keeps one event per id across every gateway replica, so a second use finds it
there. A link also stops working at its `redeem_by`, and with the token's own expiry."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console import audit
from gateway.console import session as sessions
from gateway.console.guard import check_form, safe_next, signed_in
from gateway.console.render import render
from runtime.auth import Principal, TokenVerifier
from runtime.errors import Unauthenticated
from runtime.tokens import LINK_CLAIM

router = APIRouter(prefix="/console", include_in_schema=False)

# Link uses get event ids in a namespace of their own.
LINK_USES = uuid.UUID("4f0b3a52-6c1e-4d8e-9a57-2f8c1c0e7d11")


@router.get("/signin")
async def signin_page(request: Request, next: str = "/console/") -> HTMLResponse:
    oidc = bool(request.app.state.settings.console.oidc_client_id)
    return render(request, "signin.html", next=safe_next(next), oidc=oidc)


@router.get("/link")
async def link_page(request: Request, t: str = "") -> HTMLResponse:
    principal, problem = await _link_holder(request, t)
    if principal is None:
        return render(request, "link_refused.html", status=401, problem=problem)
    return render(request, "link.html", token=t, holder=principal)


@router.post("/link")
async def use_link(request: Request, t: Annotated[str, Form()] = "") -> Response:
    check_form(request, None, "")
    principal, problem = await _link_holder(request, t)
    if principal is None:
        return render(request, "link_refused.html", status=401, problem=problem)
    if await _used_before(request, principal, t):
        problem = "this sign-in link was used already; ask for a new one"
        return render(request, "link_refused.html", status=409, problem=problem)
    exp = int(_claims(t).get("exp", 0))
    ttl = request.app.state.settings.console.session_ttl_s
    response = RedirectResponse("/console/", status_code=303)
    sessions.write(
        request, response, sessions.new_session(t, principal.subject, principal.roles, exp, ttl)
    )
    return response


@router.post("/signout")
async def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    person_ = await signed_in(request)
    check_form(request, person_.session, csrf)
    await audit.record(request, person_.principal, "console.signed_out", {})
    response = RedirectResponse("/console/signin?signed_out=1", status_code=303)
    sessions.clear(request, response)
    return response


async def _link_holder(request: Request, token: str) -> tuple[Principal | None, str]:
    """Who the link signs in, or why it cannot be used."""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify_async(token)
    except Unauthenticated as exc:
        return None, f"this sign-in link is not valid: {exc}"
    link = _claims(token).get(LINK_CLAIM)
    if not isinstance(link, dict) or not isinstance(link.get("redeem_by"), int):
        return None, "this is a token, not a sign-in link (`tradeops console-link` makes links)"
    if link["redeem_by"] < time.time():
        return None, "this sign-in link has expired; ask for a new one"
    return principal, ""


def _claims(token: str) -> dict[str, Any]:
    """The claims of a token the verifier has accepted already."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _used_before(request: Request, principal: Principal, token: str) -> bool:
    digest = hashlib.sha256(token.encode()).hexdigest()
    event_id = str(uuid.uuid5(LINK_USES, digest))
    return await audit.record(request, principal, "console.signed_in", {"via": "link"}, event_id)
