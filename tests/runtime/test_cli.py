from __future__ import annotations

import subprocess
import sys

import pytest

from runtime.auth import TokenVerifier
from runtime.errors import Unauthenticated
from runtime.settings import AuthSettings
from tests.conftest import TEST_SECRET


def _tradeops(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"TRADEOPS_JWT_SECRET": TEST_SECRET, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, env=env
    )


def test_tradeops_token_prints_a_token_the_services_accept(auth_settings: AuthSettings) -> None:
    result = _tradeops("token", "--sub", "alice", "--roles", "ops,compliance")
    assert result.returncode == 0, result.stderr
    principal = TokenVerifier(auth_settings).verify(result.stdout.strip())
    assert principal.subject == "alice"
    assert principal.roles == {"ops", "compliance"}


def test_tradeops_token_refuses_an_unknown_role_with_a_clear_message() -> None:
    result = _tradeops("token", "--sub", "alice", "--roles", "superuser")
    assert result.returncode == 2
    assert "unknown roles ['superuser']" in result.stderr
    assert result.stdout == ""


def test_a_token_signed_with_another_secret_is_refused(auth_settings: AuthSettings) -> None:
    other = AuthSettings("x" * 40, auth_settings.issuer, auth_settings.audience, 60)
    forged = _tradeops("token", "--sub", "mallory", "--roles", "admin").stdout.strip()
    with pytest.raises(Unauthenticated, match="invalid token"):
        TokenVerifier(other).verify(forged)


def test_an_expired_token_is_refused(auth_settings: AuthSettings) -> None:
    from runtime.auth import mint_token

    expired = mint_token(auth_settings, "alice", ["ops"], ttl_s=-120)
    with pytest.raises(Unauthenticated, match="expired"):
        TokenVerifier(auth_settings).verify(expired)
