"""The console's session: one cookie holding, encrypted and authenticated (AES-256-GCM), the
bearer token the console forwards to the services for its person, a CSRF token and when it
ends. Nothing is kept on the server, so any gateway replica with the same key serves any
session. The cookie is HttpOnly and SameSite=Lax, Secure except for a page opened on this
machine over http (make run), and made anew at every sign-in (no session fixation)."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass
from ipaddress import ip_address
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import Response

from runtime.console_settings import ConsoleSettings
from runtime.settings import SettingsError

log = logging.getLogger(__name__)

COOKIE = "tradeops_console"
PATH = "/console"
# Binds a cookie to its use: the same key could one day seal other things.
PURPOSE = b"tradeops console session v1"


@dataclass(frozen=True)
class Session:
    token: str  # the person's bearer token, verified again on every request
    csrf: str
    subject: str
    roles: tuple[str, ...]
    expires_at: int  # unix seconds: the sooner of the token's end and the session's


def new_session(
    token: str, subject: str, roles: frozenset[str], token_exp: int, ttl_s: int
) -> Session:
    expires = min(token_exp, int(time.time()) + ttl_s) if token_exp else int(time.time()) + ttl_s
    return Session(token, secrets.token_urlsafe(32), subject, tuple(sorted(roles)), expires)


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SettingsError("the console session key must be 32 bytes (64 hex digits)")
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> Sealer:
        if settings.session_key_file is None:
            log.warning(
                "TRADEOPS_CONSOLE_SESSION_KEY_FILE is not set: console sessions end when this "
                "gateway stops and work on this replica only"
            )
            return cls(os.urandom(32))
        try:
            text = settings.session_key_file.read_text().strip()
            return cls(bytes.fromhex(text))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"TRADEOPS_CONSOLE_SESSION_KEY_FILE: {exc}") from None

    def seal(self, session: Session) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(asdict(session)).encode(), PURPOSE)
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, cookie: str) -> Session | None:
        """The session, or None when the cookie is not one of ours, was altered or ended."""
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            fields = json.loads(self._aead.decrypt(raw[:12], raw[12:], PURPOSE))
            session = Session(**{**fields, "roles": tuple(fields["roles"])})
        except (ValueError, InvalidTag, TypeError, KeyError):
            return None
        return session if session.expires_at > time.time() else None

    def seal_value(self, value: dict[str, Any], purpose: bytes) -> str:
        """Any JSON object sealed like a session, bound to `purpose`: a cookie made for one use
        never opens as another (a sign-in flow's state as a session, or the reverse)."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(value).encode(), purpose)
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open_value(self, cookie: str, purpose: bytes) -> dict[str, Any] | None:
        """What seal_value sealed for `purpose`, or None when it was not, or was altered."""
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            value = json.loads(self._aead.decrypt(raw[:12], raw[12:], purpose))
        except (ValueError, InvalidTag):
            return None
        return value if isinstance(value, dict) else None


def secure(request: Request) -> bool:
    """Secure cookies everywhere but plain http to this machine (make run's own browser)."""
    host = request.url.hostname or ""
    try:
        local = host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        local = False
    return request.url.scheme == "https" or not local


def read(request: Request) -> Session | None:
    cookie = request.cookies.get(COOKIE)
    sealer: Sealer = request.app.state.console_sealer
    return sealer.open(cookie) if cookie else None


def write(request: Request, response: Response, session: Session) -> None:
    sealer: Sealer = request.app.state.console_sealer
    response.set_cookie(
        COOKIE,
        sealer.seal(session),
        max_age=max(0, session.expires_at - int(time.time())),
        path=PATH,
        secure=secure(request),
        httponly=True,
        samesite="lax",
    )


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, secure=secure(request), httponly=True, samesite="lax")
