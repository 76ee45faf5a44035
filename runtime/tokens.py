"""Signing the tokens this system issues itself (runtime.token_claims says how they are
checked): people's tokens with the local issuer's key (`tradeops token`, the `make run`
banner), a service's with its own key, one token per peer."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt

from runtime.auth import ROLES
from runtime.keys import SigningKey
from runtime.settings import AuthSettings
from runtime.token_claims import ALGORITHM, SERVICE_TTL_S, may_speak_for, service_audience


def mint_person_token(
    key: SigningKey,
    settings: AuthSettings,
    subject: str,
    roles: Iterable[str],
    desk: str = "",
    ttl_s: int = 0,
    extra: dict[str, Any] | None = None,
) -> str:
    """A person's token, signed with the local issuer's key (`tradeops token`)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": sorted(set(roles)),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl_s or settings.token_ttl_s),
    }
    if desk:
        claims["desk"] = desk
    claims.update(extra or {})
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


LINK_CLAIM = "console_link"


def mint_console_link(
    key: SigningKey,
    settings: AuthSettings,
    subject: str,
    roles: Iterable[str],
    link_ttl_s: int,
    session_ttl_s: int,
    desk: str = "",
) -> str:
    """The token of a one-time console sign-in link: a person's token for the session's length
    (the console forwards it to the services), usable to sign in once (gateway.console.signin
    audits each use under an id derived from the token) until `redeem_by`. Its own `jti`
    keeps two links minted in the same second apart."""
    redeem_by = int(time.time()) + link_ttl_s
    extra = {"jti": secrets.token_urlsafe(16), LINK_CLAIM: {"redeem_by": redeem_by}}
    return mint_person_token(key, settings, subject, roles, desk, session_ttl_s, extra)


def mint_service_token(
    key: SigningKey, owner: str, subject: str, audiences: list[str], ttl_s: int = SERVICE_TTL_S
) -> str:
    if not may_speak_for(owner, subject):
        raise ValueError(f"the key of {owner} cannot speak for {subject!r}")
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": f"svc:{owner}",
        "aud": audiences[0] if len(audiences) == 1 else audiences,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


class ServiceIdentity:
    """A service's own tokens, one per peer, re-minted shortly before they expire."""

    def __init__(self, settings: AuthSettings, subject: str) -> None:
        key, owner = settings.service_key, settings.name
        if key is None or not owner:
            raise ValueError("this process has no service key (TRADEOPS_SERVICE_KEY_FILE)")
        self._settings, self._key, self._owner = settings, key, owner
        self._subject = f"svc:{subject}"
        if not may_speak_for(owner, self._subject):
            raise ValueError(f"the key of {owner} cannot speak for {self._subject!r}")
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def subject(self) -> str:
        return self._subject

    def token(self, *peers: str) -> str:
        """A token for calls to `peers` (their services' audiences): the peer called, and the
        ones it calls on with this token when it works on our behalf."""
        return self.token_as(self._subject, *peers)

    def token_as(self, subject: str, *peers: str) -> str:
        """A token for `subject` (one this service may speak for, such as an automation)."""
        if not peers:
            raise ValueError("a service token names the peers it is for")
        cache_key = " ".join((subject, *sorted(peers)))
        cached = self._tokens.get(cache_key)
        if cached is not None and time.time() < cached[1] - 60:
            return cached[0]
        audiences = [service_audience(self._settings, peer) for peer in sorted(set(peers))]
        token = mint_service_token(self._key, self._owner, subject, audiences)
        if len(self._tokens) > 1000:  # one per automation and peer set; bounded all the same
            self._tokens.clear()
        self._tokens[cache_key] = (token, time.time() + SERVICE_TTL_S)
        return token
