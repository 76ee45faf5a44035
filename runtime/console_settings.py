"""The console's sessions and sign-in (gateway/console/), read from TRADEOPS_CONSOLE_*."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's sessions and sign-in (gateway/console/)."""

    # 32 random bytes, hex, that encrypt and authenticate session cookies: every gateway
    # replica needs the same file. Unset: a key made at start, so sessions end with the
    # process and hold on one replica only (the gateway logs a warning).
    session_key_file: Path | None = None
    session_ttl_s: int = 8 * 3600
    # How long a one-time sign-in link (`tradeops console-link`) may wait to be used.
    link_ttl_s: int = 600
    # Sign-in through the identity provider (TRADEOPS_OIDC_ISSUER): the console is its client.
    oidc_client_id: str = ""
    oidc_client_secret_file: Path | None = None
    oidc_scope: str = "openid profile"
    # Where the provider sends the browser back: unset, the callback's URL as the gateway sees
    # the request; set it when a proxy in front changes the scheme, host or path.
    oidc_redirect_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConsoleSettings:
        key = env.get("TRADEOPS_CONSOLE_SESSION_KEY_FILE", "")
        secret = env.get("TRADEOPS_CONSOLE_OIDC_CLIENT_SECRET_FILE", "")
        return cls(
            session_key_file=Path(key) if key else None,
            session_ttl_s=int(env.get("TRADEOPS_CONSOLE_SESSION_TTL_S", str(8 * 3600))),
            link_ttl_s=int(env.get("TRADEOPS_CONSOLE_LINK_TTL_S", "600")),
            oidc_client_id=env.get("TRADEOPS_CONSOLE_OIDC_CLIENT_ID", ""),
            oidc_client_secret_file=Path(secret) if secret else None,
            oidc_scope=env.get("TRADEOPS_CONSOLE_OIDC_SCOPE", "openid profile"),
            oidc_redirect_url=env.get("TRADEOPS_CONSOLE_OIDC_REDIRECT_URL", ""),
        )
