"""Identity: JWT bearer tokens turned into principals, and the role sets RBAC checks against.

Tokens are HS256 JWTs signed with TRADEOPS_JWT_SECRET for local use; the issuer, audience,
expiry and not-before are checked. Roles come from the `roles` claim. Services call each other
with a token of their own carrying the pseudo-role `service`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

import jwt

from runtime.errors import PermissionDenied, Unauthenticated
from runtime.settings import AuthSettings

ROLES = ("viewer", "trader", "ops", "compliance", "admin")
SERVICE = "service"

# Named role sets used by the RBAC tables of the gateway and every servicer.
ANYONE = frozenset(ROLES)
TRADERS = frozenset({"trader", "ops", "compliance", "admin"})
APPROVERS = frozenset({"ops", "compliance", "admin"})
COMPLIANCE = frozenset({"compliance", "admin"})
SERVICES = frozenset({SERVICE})

_ALGORITHMS = ["HS256"]
_LEEWAY_S = 30


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    desk: str = ""
    token: str = ""

    @property
    def kind(self) -> str:
        return "service" if SERVICE in self.roles else "person"

    def require(self, allowed: Iterable[str]) -> None:
        if not self.roles & frozenset(allowed):
            raise PermissionDenied(f"{self.subject} lacks a role among {sorted(allowed)}")


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._settings.secret,
                algorithms=_ALGORITHMS,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        return _principal(claims, token)

    def verify_header(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing bearer token")
        return self.verify(token.strip())


def _principal(claims: dict[str, object], token: str) -> Principal:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("invalid token: roles claim must be a list of strings")
    known = frozenset(roles) & (ANYONE | SERVICES)
    return Principal(str(claims["sub"]), known, str(claims.get("desk", "")), token)


def mint_token(
    settings: AuthSettings, subject: str, roles: Iterable[str], desk: str = "", ttl_s: int = 0
) -> str:
    """Signs a token; used by `tradeops token` and by services for their own identity."""
    unknown = set(roles) - (ANYONE | SERVICES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    now = int(time.time())
    claims = {
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
    return jwt.encode(claims, settings.secret, algorithm="HS256")


class ServiceIdentity:
    """A service's own token, re-minted shortly before it expires."""

    def __init__(self, settings: AuthSettings, service: str) -> None:
        self._settings, self._subject = settings, f"svc:{service}"
        self._token, self._expires = "", 0.0

    def token(self) -> str:
        if time.time() > self._expires - 60:
            self._token = mint_token(self._settings, self._subject, [SERVICE], ttl_s=900)
            self._expires = time.time() + 900
        return self._token


_current: ContextVar[Principal | None] = ContextVar("tradeops_principal", default=None)


def current_principal() -> Principal:
    """The authenticated caller of the RPC being served."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller")
    return principal


def set_current_principal(principal: Principal | None) -> None:
    _current.set(principal)
