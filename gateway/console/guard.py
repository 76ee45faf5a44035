"""Who is signed in, and what they may do. The console is one more client of the same API:
each page calls the services with the person's own token, and offers only what the gateway's
RBAC table (gateway.rbac) lets their roles do through the API; the services check again.

Forms are protected against cross-site requests twice: a CSRF token from the session in every
form, and the Origin (or Referer) of every POST must be the console's own."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, Request

from gateway.console import session as sessions
from gateway.console.session import Session
from gateway.deps import Rpc
from gateway.errors import ApiError
from gateway.rbac import allowed_roles
from runtime.auth import Principal, TokenVerifier
from runtime.clients import bearer
from runtime.errors import Unauthenticated

HOME = "/console/"


class SignInRequired(Exception):
    """Answered with a redirect to the sign-in page, which comes back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Person:
    session: Session
    principal: Principal

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def roles(self) -> frozenset[str]:
        return self.principal.roles

    def may(self, method: str, api_path: str) -> bool:
        """Whether the API route lets this person's roles call it."""
        return bool(self.principal.roles & allowed_roles(method, api_path))

    def rpc(self, request: Request) -> Rpc:
        state = request.app.state
        settings = state.settings
        return Rpc(
            state.peers,
            bearer(self.principal.token),
            settings.rpc_timeout_s,
            settings.long_rpc_timeout_s,
        )


async def signed_in(request: Request) -> Person:
    session = sessions.read(request)
    if session is None:
        raise SignInRequired(_here(request))
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify_async(session.token)
    except Unauthenticated:
        raise SignInRequired(_here(request)) from None  # expired, or its key was withdrawn
    return Person(session, principal)


SignedIn = Annotated[Person, Depends(signed_in)]


def _here(request: Request) -> str:
    if request.method != "GET":
        return "/console/"
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def sign_in_url(next_path: str) -> str:
    return f"/console/signin?next={quote(safe_next(next_path), safe='/')}"


def safe_next(value: str) -> str:
    """`value` when it is a path under /console/ of this origin, else /console/: an absolute URL,
    `//host` or `/\\host` would send the person elsewhere after signing in (an open redirect)."""
    path = unquote(value.split("?", 1)[0])
    unsafe = (
        not value.startswith(HOME)
        or any(char == "\\" or ord(char) < 0x21 or ord(char) == 0x7F for char in value + path)
        or ".." in path.split("/")
    )
    return HOME if unsafe else value


def same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    own = urlsplit(str(request.base_url))
    return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)


def check_form(request: Request, session: Session | None, token: str) -> None:
    """A POST from a console page of this origin, with the session's CSRF token."""
    if not same_origin(request):
        raise ApiError(403, "PERMISSION_DENIED", "a console form must come from the console")
    if session is not None and not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise ApiError(403, "PERMISSION_DENIED", "the form is stale or forged: reload the page")
