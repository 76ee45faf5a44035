"""A sign-in in progress: the state, nonce and PKCE code verifier sent with the authorization
request, where to go afterwards and where the provider sends the browser back. Kept in the
browser, sealed with the session key (gateway.console.session) for this purpose only, for ten
minutes, on the sign-in paths only. SameSite=Lax: the provider's redirect back is a cross-site
top-level GET, which Lax lets through and Strict would not."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from authlib.common.security import generate_token
from starlette.requests import Request
from starlette.responses import Response

from gateway.console.session import Sealer, secure

COOKIE = "tradeops_console_signin"
PATH = "/console/signin"
PURPOSE = b"tradeops console sign-in flow v1"
MAX_AGE_S = 600


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str  # PKCE: only its S256 hash leaves in the authorization request
    next: str  # a path under /console/ (safe_next)
    redirect_uri: str
    expires_at: int  # unix seconds: checked here, not left to the cookie's max-age


def new_flow(next_path: str, redirect_uri: str) -> Flow:
    # The verifier: 48 characters of Authlib's set, as its own clients make them (RFC 7636
    # asks for 43 to 128 unreserved characters).
    secrets = generate_token(32), generate_token(32), generate_token(48)
    return Flow(*secrets, next_path, redirect_uri, int(time.time()) + MAX_AGE_S)


def write(request: Request, response: Response, flow: Flow) -> None:
    sealer: Sealer = request.app.state.console_sealer
    response.set_cookie(
        COOKIE,
        sealer.seal_value(asdict(flow), PURPOSE),
        max_age=MAX_AGE_S,
        path=_path(request),
        secure=secure(request),
        httponly=True,
        samesite="lax",
    )


def read(request: Request) -> Flow | None:
    """The browser's sign-in in progress; None when it has none, or an altered or ended one."""
    cookie = request.cookies.get(COOKIE)
    sealer: Sealer = request.app.state.console_sealer
    fields = sealer.open_value(cookie, PURPOSE) if cookie else None
    try:
        flow = Flow(**fields) if fields is not None else None
    except TypeError:
        return None
    return flow if flow is not None and flow.expires_at > time.time() else None


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path=_path(request), secure=secure(request), httponly=True, samesite="lax"
    )


def _path(request: Request) -> str:
    return str(request.scope.get("root_path", "")) + PATH
