"""Identity: JWT bearer tokens turned into principals, and the role sets RBAC checks against.

Tokens are HS256 JWTs signed with TRADEOPS_JWT_SECRET for local use; the issuer, audience,
expiry and not-before are checked. Roles come from the `roles` claim. Services call each other
with a token of their own carrying the pseudo-role `service`. With an identity provider
configured (runtime.jwks, TRADEOPS_OIDC_*), people's tokens are RS256/ES256/EdDSA tokens
checked against its JWKS, and the shared secret vouches for services only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt

from runtime.errors import PermissionDenied, Unauthenticated
from runtime.jwks import LEEWAY_S, JwksKeys, claim_at, verify_idp_token
from runtime.settings import AuthSettings, OidcSettings

ROLES = ("viewer", "trader", "ops", "compliance", "admin")
SERVICE = "service"

# Named role sets used by the RBAC tables of the gateway and every servicer.
ANYONE = frozenset(ROLES)
TRADERS = frozenset({"trader", "ops", "compliance", "admin"})
APPROVERS = frozenset({"ops", "compliance", "admin"})
COMPLIANCE = frozenset({"compliance", "admin"})
SERVICES = frozenset({SERVICE})

_ALGORITHMS = ["HS256"]
MAX_CACHED_TOKENS = 10_000  # verified tokens remembered per verifier (a few MB at most)


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
    """Verifies bearer tokens. A verified token is remembered (up to `max_cached`, by its exact
    string) until its expiry, so a caller sending the same token again costs a dictionary look-up
    instead of an HMAC and a claims check: the signature cannot change without the string
    changing, and the expiry is checked on every use. Refused tokens are never remembered."""

    def __init__(self, settings: AuthSettings, max_cached: int = MAX_CACHED_TOKENS) -> None:
        self._settings, self._max_cached = settings, max_cached
        self._verified: dict[str, tuple[Principal, float]] = {}
        oidc = settings.oidc
        self._idp = (oidc, JwksKeys(oidc)) if oidc is not None else None

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        self._verified.pop(token, None)
        if self._idp is not None and _algorithm(token) != "HS256":
            claims, principal = _from_idp(token, *self._idp)
        else:
            claims, principal = self._from_secret(token)
        self._remember(token, principal, claims["exp"])
        return principal

    async def verify_async(self, token: str) -> Principal:
        """verify() for callers on an event loop. With an identity provider, a token not yet
        remembered is checked in a worker thread: an unknown key id fetches the provider's key
        set over the network (up to FETCH_TIMEOUT_S), which must not stall every other request."""
        cached = self._verified.get(token)
        if self._idp is None or (cached is not None and time.time() < cached[1]):
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)

    def _from_secret(self, token: str) -> tuple[dict[str, Any], Principal]:
        try:
            claims = jwt.decode(
                token,
                self._settings.secret,
                algorithms=_ALGORITHMS,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        principal = _principal(claims, token)
        if self._idp is not None and principal.roles != SERVICES:
            # With an identity provider, the shared secret only vouches for services.
            raise Unauthenticated("invalid token: people sign in through the identity provider")
        return claims, principal

    def _remember(self, token: str, principal: Principal, exp: object) -> None:
        if not isinstance(exp, int | float):
            return
        if len(self._verified) >= self._max_cached:
            now = time.time()
            self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
            while len(self._verified) >= self._max_cached:
                del self._verified[next(iter(self._verified))]  # the oldest entry
        # Valid until PyJWT would refuse it: exp plus the same leeway.
        self._verified[token] = (principal, float(exp) + LEEWAY_S)

    async def verify_header(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing bearer token")
        return await self.verify_async(token.strip())


def _from_idp(token: str, oidc: OidcSettings, keys: JwksKeys) -> tuple[dict[str, Any], Principal]:
    claims = verify_idp_token(token, oidc, keys)
    subject = claim_at(claims, oidc.subject_claim)
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated(f"invalid token: no {oidc.subject_claim!r} claim")
    roles = claim_at(claims, oidc.roles_claim)
    if roles is None:
        roles = []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated(f"invalid token: {oidc.roles_claim!r} must be a list of strings")
    # A provider can grant people's roles, never the services' pseudo-role.
    known = frozenset(roles) & ANYONE
    return claims, Principal(subject, known, str(claims.get("desk", "")), token)


def _algorithm(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("alg", ""))
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None


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
