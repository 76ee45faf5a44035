"""Identity: JWT bearer tokens turned into principals, and the role sets RBAC checks against.

A token's key id says who vouches for it. Keys pinned in the trust file (runtime.keys,
runtime.token_claims) belong to the local issuer of people's tokens or to one service: a
service's token always carries the pseudo-role `service` and nothing else, a person's token
its `roles` claim and never `service`. With an identity provider configured (runtime.jwks,
TRADEOPS_OIDC_*), people's tokens come from it instead, and the local issuer is refused.
Issuer, audience, expiry and not-before are checked on every token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt

from runtime.errors import PermissionDenied, Unauthenticated
from runtime.jwks import LEEWAY_S, JwksKeys, claim_at, verify_idp_token
from runtime.keys import ISSUER, KeyFileError, TrustStore
from runtime.settings import AuthSettings, OidcSettings
from runtime.token_claims import check_local

ROLES = ("viewer", "trader", "ops", "compliance", "admin")
SERVICE = "service"

# Named role sets used by the RBAC tables of the gateway and every servicer.
ANYONE = frozenset(ROLES)
TRADERS = frozenset({"trader", "ops", "compliance", "admin"})
APPROVERS = frozenset({"ops", "compliance", "admin"})
COMPLIANCE = frozenset({"compliance", "admin"})
SERVICES = frozenset({SERVICE})

TRUST_RELOAD_MIN_S = 1.0  # the trust file is looked at again at most this often
# Services whose key may act on people's behalf: name another requester, claim executions.
# The agent proposes for the person or probe author behind a decision and runs the executors;
# every other service, the gateway and desk systems speak only for themselves.
DELEGATES = frozenset({"agent"})
MAX_CACHED_TOKENS = 10_000  # verified tokens remembered per verifier (a few MB at most)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    desk: str = ""
    token: str = ""
    # The service whose own key signed the token ("" for a person): what it may do beyond its
    # role follows from which service it is, never from a name it claims.
    owner: str = ""

    @property
    def kind(self) -> str:
        return "service" if SERVICE in self.roles else "person"

    @property
    def acts_for_others(self) -> bool:
        return self.kind == "service" and self.owner in DELEGATES

    def on_behalf_of(self, named: str, what: str) -> str:
        """Who `what` is for: the caller, or the person a service acting for others (the agent)
        names; anyone else naming another is refused, so nobody can pin a request on another
        or bar them from voting."""
        if not named or named == self.subject:
            return self.subject
        if not self.acts_for_others:
            raise PermissionDenied(f"{self.subject} cannot {what} {named}: only the agent can")
        return named

    def require(self, allowed: Iterable[str]) -> None:
        if not self.roles & frozenset(allowed):
            raise PermissionDenied(f"{self.subject} lacks a role among {sorted(allowed)}")


class TokenVerifier:
    """Verifies bearer tokens. A verified token is remembered (up to `max_cached`, by its exact
    string) until its expiry, so a caller sending the same token again costs a dictionary look-up
    instead of a signature check: the signature cannot change without the string changing, and
    the expiry is checked on every use. Refused tokens are never remembered."""

    def __init__(self, settings: AuthSettings, max_cached: int = MAX_CACHED_TOKENS) -> None:
        self._settings, self._max_cached = settings, max_cached
        self._verified: dict[str, tuple[Principal, float, str]] = {}
        oidc = settings.oidc
        self._idp = (oidc, JwksKeys(oidc)) if oidc is not None else None
        self._trust, self._trust_read = settings.trust, _mtime(settings)
        self._trust_checked = time.monotonic()

    def verify(self, token: str) -> Principal:
        self._refresh()
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[1] and self._still_trusted(cached[2]):
            return cached[0]
        self._verified.pop(token, None)
        kid = _key_id(token)
        if self._idp is not None and self._trust.owner_of(kid) is None:
            claims, principal = _from_idp(token, *self._idp)
            kid = ""  # the provider's keys expire on their own (runtime.jwks)
        else:
            claims, principal = self._from_trusted(token, kid)
        self._remember(token, principal, claims["exp"], kid)
        return principal

    async def verify_async(self, token: str) -> Principal:
        """verify() for callers on an event loop. With an identity provider, a token not yet
        remembered is checked in a worker thread: an unknown key id fetches the provider's key
        set over the network (up to FETCH_TIMEOUT_S), which must not stall every other request."""
        cached = self._verified.get(token)
        if self._idp is None or (cached is not None and time.time() < cached[1]):
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)

    def _from_trusted(self, token: str, kid: str) -> tuple[dict[str, Any], Principal]:
        claims, owner = check_local(token, kid, self._trust, self._settings, LEEWAY_S)
        if owner != ISSUER:
            return claims, Principal(str(claims["sub"]), SERVICES, "", token, owner)
        if self._idp is not None:
            raise Unauthenticated("invalid token: people sign in through the identity provider")
        return claims, _principal(claims, token)

    def _refresh(self) -> None:
        """Looks at the trust file at most once a second, so a rotation (a new key id) and a
        retirement (a key id gone, after a leak) take effect in running processes."""
        path, now = self._settings.trust_file, time.monotonic()
        if path is None or now - self._trust_checked < TRUST_RELOAD_MIN_S:
            return
        self._trust_checked = now
        mtime = _mtime(self._settings)  # before reading: a write in between shows next time
        if mtime != self._trust_read:
            # A file that does not parse (half edited by hand) leaves the keys we have.
            with contextlib.suppress(KeyFileError):
                self._trust, self._trust_read = TrustStore.load(path), mtime

    def _still_trusted(self, kid: str) -> bool:
        return not kid or self._trust.owner_of(kid) is not None

    def _remember(self, token: str, principal: Principal, exp: object, kid: str) -> None:
        if not isinstance(exp, int | float):
            return
        if len(self._verified) >= self._max_cached:
            now = time.time()
            self._verified = {t: v for t, v in self._verified.items() if v[1] > now}
            while len(self._verified) >= self._max_cached:
                del self._verified[next(iter(self._verified))]  # the oldest entry
        # Valid until PyJWT would refuse it: exp plus the same leeway.
        self._verified[token] = (principal, float(exp) + LEEWAY_S, kid)

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


def _key_id(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("kid", ""))
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None


def _mtime(settings: AuthSettings) -> float:
    try:
        return settings.trust_file.stat().st_mtime if settings.trust_file else 0.0
    except OSError:
        return 0.0


def _principal(claims: dict[str, object], token: str) -> Principal:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("invalid token: roles claim must be a list of strings")
    # The issuer's key vouches for people: never for the services' pseudo-role.
    known = frozenset(roles) & ANYONE
    return Principal(str(claims["sub"]), known, str(claims.get("desk", "")), token)


_current: ContextVar[Principal | None] = ContextVar("tradeops_principal", default=None)


def current_principal() -> Principal:
    """The authenticated caller of the RPC being served."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller")
    return principal


def set_current_principal(principal: Principal | None) -> None:
    _current.set(principal)
