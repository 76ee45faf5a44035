"""Tokens this system signs itself: EdDSA JWTs from the keys pinned in the trust file
(runtime.keys).

People's tokens are signed with the local issuer's key for the audience TRADEOPS_JWT_AUDIENCE;
a service's tokens with its own key, each for one peer's audience ("<audience>/<peer>"), so a
token the agent sends to ops cannot be replayed against audit. Which subjects a key may speak
for follows from who owns it (`may_speak_for`): a service's key never yields a person's roles,
and the issuer's key never yields the services' role."""

from __future__ import annotations

import time
from typing import Any

import jwt

from runtime.errors import Unauthenticated
from runtime.keys import ISSUER, TrustStore
from runtime.settings import AuthSettings

ALGORITHM = "EdDSA"
# A service's token lives at most this long (its identity re-mints before), so a key stolen and
# retired cannot leave long-lived tokens behind.
SERVICE_TTL_S = 900
# Automations a service runs in its own process, under their own names (the agent's triggers).
AUTOMATIONS = {"agent": ("trigger:", "probe:")}


def service_audience(settings: AuthSettings, peer: str) -> str:
    return f"{settings.audience}/{peer}"


def may_speak_for(owner: str, subject: str) -> bool:
    """A service's key vouches for the service itself (svc:NAME), its parts (svc:NAME.PART) and
    its automations; never for a person or another service."""
    return is_part_of(subject, f"svc:{owner}") or subject.startswith(AUTOMATIONS.get(owner, ()))


def is_part_of(name: str, whole: str) -> bool:
    """`name` is `whole` or one of its dotted parts (svc:agent.triggers of svc:agent)."""
    return name == whole or name.startswith(whole + ".")


def check_local(
    token: str, kid: str, trust: TrustStore, settings: AuthSettings, leeway_s: float
) -> tuple[dict[str, Any], str]:
    """The claims of a token signed by a pinned key, and the key's owner (ISSUER or a
    service). A person's token must name our issuer and audience; a service's token its own
    name as issuer, a subject it may speak for, and this process's audience."""
    found = trust.owner_of(kid)
    if found is None:
        raise Unauthenticated(f"invalid token: unknown signing key {kid!r}")
    owner, public = found
    person = owner == ISSUER
    if not person and not settings.name:
        raise Unauthenticated("invalid token: this process takes no service tokens")
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            audience=settings.audience if person else service_audience(settings, settings.name),
            issuer=settings.issuer if person else f"svc:{owner}",
            leeway=leeway_s,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    if not person and not may_speak_for(owner, str(claims["sub"])):
        raise Unauthenticated(f"invalid token: the key of {owner} cannot speak for that subject")
    if not person and not _short_lived(claims, leeway_s):
        raise Unauthenticated(f"invalid token: a service token lives at most {SERVICE_TTL_S} s")
    return claims, owner


def _short_lived(claims: dict[str, Any], leeway_s: float) -> bool:
    issued, expires = claims.get("iat"), claims["exp"]
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        return False
    return expires - issued <= SERVICE_TTL_S and issued <= time.time() + leeway_s
