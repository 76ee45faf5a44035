"""People's tokens from an identity provider: RS256, ES256 or EdDSA JWTs checked against the
provider's JWKS (its published public keys), fetched from a configured URL and cached.

A token naming a key id the cache does not hold triggers a refetch, because that is how a
provider's key rotation first shows: it starts signing with a new key before every client has
seen it. Refetches are rate-limited (`refresh_min_s`) so made-up key ids cannot make us hammer
the provider. Fetched keys also expire (`max_age_s`), so a key removed from the set stops
verifying within that time even when no new key id comes along. PyJWT's own
PyJWKClient refetches on every unknown key id with no such limit, so one caller with made-up
key ids could make the gateway fetch once per request: that is why this cache is ours.

The JWKS URL follows the egress policy (TRADEOPS_EGRESS_ALLOW): each fetch resolves its host once,
refuses it if any address is outside, and connects to a checked address (runtime/pinning.py)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import jwt

from runtime.egress import Refused, Unresolvable
from runtime.errors import Unauthenticated
from runtime.pinning import pin
from runtime.settings import OidcSettings

log = logging.getLogger(__name__)
ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY_S = 30  # clock skew allowed on exp/nbf, for every token (runtime.auth uses it too)
FETCH_TIMEOUT_S = 3.0


class JwksKeys:
    """The provider's current keys by key id. Thread-safe: TokenVerifier.verify_async checks
    tokens in worker threads."""

    def __init__(self, settings: OidcSettings) -> None:
        self._settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        if time.monotonic() - self._fetched_at >= self._settings.max_age_s:
            self._renew()
        found = self._keys.get(kid)
        if found is not None:
            return found
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                self._keys = self._fetch()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthenticated(f"invalid token: unknown signing key {kid!r}")
        return found

    def _renew(self) -> None:
        with self._lock:
            if time.monotonic() - self._fetched_at < self._settings.max_age_s:
                return  # another thread renewed them while this one waited
            try:
                self._keys = self._fetch()
            except Unauthenticated:
                # The provider is down: keep the keys (its outage must not lock everyone out)
                # and try again after another lifetime; _fetch noted the attempt's time.
                log.warning("identity provider keys could not be renewed; keeping the old ones")

    def _may_refetch(self) -> bool:
        return time.monotonic() - self._fetched_at >= self._settings.refresh_min_s

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        self._fetched_at = time.monotonic()
        try:
            reply = _get(self._settings)
            reply.raise_for_status()
            document = reply.json()
        except (httpx.HTTPError, ValueError, Refused, Unresolvable) as exc:
            # Keep what we had: a provider outage must not lock out holders of known keys.
            raise Unauthenticated(f"cannot fetch the identity provider's keys: {exc}") from None
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or algorithm we do not accept is skipped, not fatal
            if key.key_id and key.algorithm_name in ALGORITHMS:
                keys[key.key_id] = key
        return keys


def _get(settings: OidcSettings) -> httpx.Response:
    """GET the JWKS from the first checked address that accepts a connection; redirects are
    never followed (the policy judged this URL's host only)."""
    url = settings.jwks_url
    targets = settings.egress.addresses_blocking(httpx.URL(url).raw_host.decode("ascii"))
    with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
        for index, address in enumerate(targets):
            target = pin(url, address)
            try:
                return client.get(target.url, headers=target.headers, extensions=target.extensions)
            except httpx.ConnectError:
                if index == len(targets) - 1:
                    raise
    raise Unresolvable(f"url host {url} has no address")


def verify_idp_token(token: str, settings: OidcSettings, keys: JwksKeys) -> dict[str, Any]:
    """The claims of a provider-signed token, or Unauthenticated saying what is wrong."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:
        raise Unauthenticated(f"invalid token: algorithm {algorithm!r} is not accepted")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("invalid token: no key id")
    key = keys.key(kid)
    if key.algorithm_name != algorithm:
        raise Unauthenticated(f"invalid token: key {kid!r} is not an {algorithm} key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    return claims


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """`realm_access.roles` -> claims["realm_access"]["roles"]; None when any step is missing."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
