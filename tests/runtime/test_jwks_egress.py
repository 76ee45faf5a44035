"""The JWKS URL under the egress policy (TRADEOPS_EGRESS_ALLOW): at a cloud metadata address the
process stops at start unless listed, and a name resolving to one is never fetched from."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from runtime.egress import parse
from runtime.errors import Unauthenticated
from runtime.jwks import JwksKeys
from runtime.settings import OidcSettings, SettingsError

METADATA = ["169.254.169.254", "100.100.100.200"]


def env(url: str, allow: str = "") -> dict[str, str]:
    return {
        "TRADEOPS_OIDC_JWKS_URL": url,
        "TRADEOPS_OIDC_ISSUER": "https://idp.example",
        "TRADEOPS_OIDC_AUDIENCE": "tradeops",
        "TRADEOPS_EGRESS_ALLOW": allow,
    }


@pytest.mark.parametrize("address", METADATA)
def test_a_jwks_url_at_a_metadata_address_is_refused_at_start_naming_the_setting(
    address: str,
) -> None:
    with pytest.raises(SettingsError, match=r"TRADEOPS_OIDC_JWKS_URL.*TRADEOPS_EGRESS_ALLOW"):
        OidcSettings.from_env(env(f"http://{address}/keys"))
    allowed = OidcSettings.from_env(env(f"http://{address}/keys", allow=address))
    assert allowed is not None
    assert allowed.egress == parse(address)
    assert OidcSettings.from_env(env("http://127.0.0.1:9/keys")) is not None


def test_a_name_resolving_to_a_metadata_address_is_never_fetched_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]

    sent: list[Any] = []
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.Client, "send", lambda *args, **kwargs: sent.append(args))
    settings = OidcSettings.from_env(env("http://idp.example/keys"))
    assert settings is not None
    keys = JwksKeys(settings)
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        keys.key("k1")
    with pytest.raises(Unauthenticated, match=r"idp.example \(169.254.169.254\).*EGRESS_ALLOW"):
        keys._fetch()  # what the renewal logged and kept the old (no) keys for
    assert sent == []
