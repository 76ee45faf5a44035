from __future__ import annotations

import subprocess
import sys

import pytest

from runtime.auth import TokenVerifier
from runtime.errors import Unauthenticated
from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings
from runtime.tokens import mint_person_token
from tests.keys import Keys


def _tradeops(keys: Keys, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**keys.env(), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, env=env
    )


def test_tradeops_token_prints_a_token_the_services_accept(
    auth_settings: AuthSettings, keys: Keys
) -> None:
    result = _tradeops(keys, "token", "--sub", "alice", "--roles", "ops,compliance")
    assert result.returncode == 0, result.stderr
    principal = TokenVerifier(auth_settings).verify(result.stdout.strip())
    assert principal.subject == "alice"
    assert principal.roles == {"ops", "compliance"}


def test_tradeops_token_refuses_an_unknown_role_with_a_clear_message(keys: Keys) -> None:
    result = _tradeops(keys, "token", "--sub", "alice", "--roles", "superuser")
    assert result.returncode == 2
    assert "unknown roles ['superuser']" in result.stderr
    assert result.stdout == ""


def test_tradeops_token_cannot_mint_the_services_role(keys: Keys) -> None:
    result = _tradeops(keys, "token", "--sub", "svc:ops", "--roles", "service")
    assert result.returncode == 2
    assert "unknown roles ['service']" in result.stderr


def test_a_token_from_a_key_the_trust_file_does_not_pin_is_refused(
    auth_settings: AuthSettings,
) -> None:
    forged = mint_person_token(SigningKey.generate(ISSUER), auth_settings, "mallory", ["admin"])
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        TokenVerifier(auth_settings).verify(forged)


def test_an_expired_token_is_refused(auth_settings: AuthSettings, keys: Keys) -> None:
    expired = keys.token("alice", "ops", ttl_s=-120)
    with pytest.raises(Unauthenticated, match="expired"):
        TokenVerifier(auth_settings).verify(expired)
