"""Per-service token keys (issue 16, item 6): what each key can and cannot vouch for.

Before, one HS256 secret signed every token, so any process holding it (the gateway, any
service) could mint an admin's token. Now a service's key yields only that service's own
identity, addressed to the peers it names; people's tokens need the issuer's key, which no
service or gateway holds."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import jwt
import pytest

from runtime import key_dir
from runtime.auth import SERVICES, TokenVerifier
from runtime.errors import Unauthenticated
from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings, SettingsError
from runtime.token_claims import ALGORITHM, may_speak_for, service_audience
from runtime.tokens import ServiceIdentity, mint_service_token
from tests.keys import Keys


def _forge(key: SigningKey, claims: Mapping[str, object]) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iat": now, "nbf": now, "exp": now + 600, **claims},
        key.private,
        algorithm=ALGORITHM,
        headers={"kid": key.kid},
    )


def test_the_gateways_key_cannot_mint_a_persons_token(keys: Keys) -> None:
    gateway_key = keys.key("gateway")
    ops = TokenVerifier(keys.serving("ops"))
    as_admin = {"sub": "alice", "roles": ["admin"], "aud": "tradeops"}
    for claims in (
        {**as_admin, "iss": "tradeops-dev"},  # posing as the issuer
        {**as_admin, "iss": "svc:gateway", "aud": "tradeops/ops"},  # as a service, for a person
    ):
        with pytest.raises(Unauthenticated):
            ops.verify(_forge(gateway_key, claims))


def test_a_service_token_carries_only_the_service_role_whatever_it_claims(keys: Keys) -> None:
    token = _forge(
        keys.key("agent"),
        {"sub": "svc:agent", "iss": "svc:agent", "aud": "tradeops/ops", "roles": ["admin"]},
    )
    principal = TokenVerifier(keys.serving("ops")).verify(token)
    assert principal.roles == SERVICES


def test_a_services_key_cannot_speak_for_another_service_or_a_person(keys: Keys) -> None:
    agent_key, audience = keys.key("agent"), ["tradeops/ops"]
    ops = TokenVerifier(keys.serving("ops"))
    for subject in ("svc:audit", "svc:agentx", "alice"):
        with pytest.raises(ValueError, match="cannot speak for"):
            mint_service_token(agent_key, "agent", subject, audience)
        forged = _forge(agent_key, {"sub": subject, "iss": "svc:agent", "aud": audience})
        with pytest.raises(Unauthenticated, match="cannot speak for"):
            ops.verify(forged)
    with pytest.raises(Unauthenticated, match="Invalid issuer"):
        ops.verify(_forge(agent_key, {"sub": "svc:agent", "iss": "svc:audit", "aud": audience}))
    with pytest.raises(ValueError, match="cannot speak for"):
        ServiceIdentity(keys.serving("agent"), "ops")


def test_a_token_for_one_peer_is_refused_by_another(keys: Keys) -> None:
    agent = ServiceIdentity(keys.serving("agent"), "agent")
    to_ops = agent.token("ops")
    assert TokenVerifier(keys.serving("ops")).verify(to_ops).subject == "svc:agent"
    with pytest.raises(Unauthenticated, match="Audience"):
        TokenVerifier(keys.serving("audit")).verify(to_ops)
    both = agent.token("ops", "audit")  # a call that ops makes on to audit for us
    assert TokenVerifier(keys.serving("audit")).verify(both).subject == "svc:agent"


def test_the_issuers_key_never_grants_the_services_role(keys: Keys) -> None:
    token = _forge(
        keys.key(ISSUER),
        {"sub": "svc:ops", "iss": "tradeops-dev", "aud": "tradeops", "roles": ["service", "ops"]},
    )
    assert TokenVerifier(keys.settings).verify(token).roles == frozenset({"ops"})


def test_a_process_refuses_to_start_with_a_key_the_trust_file_does_not_pin(
    tmp_path: Path,
) -> None:
    key_dir.ensure(tmp_path, ("ops",))
    SigningKey.generate("ops").save(tmp_path / "services" / "ops.pem")
    with pytest.raises(SettingsError, match="does not pin ops's key"):
        AuthSettings.from_env({key_dir.KEYS_DIR_ENV: str(tmp_path)}, "ops")


def test_keys_init_makes_private_keys_only_their_owner_reads_and_keeps_them(
    tmp_path: Path,
) -> None:
    assert key_dir.ensure(tmp_path) == [ISSUER, *key_dir.PROCESSES]
    private = sorted(tmp_path.rglob("*.pem"))
    assert len(private) == 1 + len(key_dir.PROCESSES)
    assert {stat.S_IMODE(p.stat().st_mode) for p in private} == {0o600}
    before = {p: p.read_bytes() for p in private}
    assert key_dir.ensure(tmp_path) == []
    assert {p: p.read_bytes() for p in private} == before


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, key_dir.KEYS_DIR_ENV: str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, env=env
    )


def test_a_rotated_service_key_signs_new_tokens_and_old_ones_verify_until_retired(
    tmp_path: Path,
) -> None:
    assert _cli(tmp_path, "keys", "init").returncode == 0
    env = {key_dir.KEYS_DIR_ENV: str(tmp_path)}
    ops = TokenVerifier(AuthSettings.from_env(env, "ops"))
    old_agent = AuthSettings.from_env(env, "agent")
    old_token = ServiceIdentity(old_agent, "agent").token("ops")
    time.sleep(1.1)  # the verifier re-reads a changed trust file at most once a second

    rotated = _cli(tmp_path, "keys", "rotate", "service", "agent")
    assert rotated.returncode == 0, rotated.stderr
    new_agent = AuthSettings.from_env(env, "agent")
    assert new_agent.service_key
    assert old_agent.service_key
    assert new_agent.service_key.kid != old_agent.service_key.kid
    new_token = ServiceIdentity(new_agent, "agent").token("ops")
    assert ops.verify(new_token).subject == "svc:agent"  # the running verifier picked it up
    assert ops.verify(old_token).subject == "svc:agent"

    current = _cli(tmp_path, "keys", "retire", new_agent.service_key.kid)
    assert current.returncode == 2
    assert "rotate it first" in current.stderr
    retired = _cli(tmp_path, "keys", "retire", old_agent.service_key.kid)
    assert retired.returncode == 0, retired.stderr
    time.sleep(1.1)
    # The running verifier, which remembers old_token as verified, refuses it from now on.
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        ops.verify(old_token)
    assert ops.verify(new_token).subject == "svc:agent"


def test_a_desk_system_gets_a_key_of_its_own_and_only_its_own_name(tmp_path: Path) -> None:
    assert _cli(tmp_path, "keys", "init").returncode == 0
    assert _cli(tmp_path, "keys", "rotate", "service", "md-gateway").returncode == 0
    bad = _cli(tmp_path, "keys", "rotate", "service", "../issuer")
    assert bad.returncode == 2
    assert "a service name is" in bad.stderr
    desk = SigningKey.load(tmp_path / "services" / "md-gateway.pem", "md-gateway")
    settings = AuthSettings.from_env({key_dir.KEYS_DIR_ENV: str(tmp_path)}, "agent")
    audience = [service_audience(settings, "agent")]
    token = mint_service_token(desk, "md-gateway", "svc:md-gateway", audience)
    assert TokenVerifier(settings).verify(token).subject == "svc:md-gateway"
    issuer = dataclasses.replace(settings, name="")  # a command-line tool takes no service token
    with pytest.raises(Unauthenticated, match="no service tokens"):
        TokenVerifier(issuer).verify(token)


def test_a_service_token_living_longer_than_a_quarter_hour_is_refused(keys: Keys) -> None:
    ops, now = TokenVerifier(keys.serving("ops")), int(time.time())
    claims = {"sub": "svc:agent", "iss": "svc:agent", "aud": "tradeops/ops", "iat": now}
    long_lived = _forge(keys.key("agent"), {**claims, "exp": now + 10 * 365 * 86400})
    with pytest.raises(Unauthenticated, match="at most 900 s"):
        ops.verify(long_lived)
    no_iat = {k: v for k, v in claims.items() if k != "iat"}
    with pytest.raises(Unauthenticated, match="at most 900 s"):
        ops.verify(_forge_without_iat(keys.key("agent"), {**no_iat, "exp": now + 60}))


def _forge_without_iat(key: SigningKey, claims: Mapping[str, object]) -> str:
    return jwt.encode(dict(claims), key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def test_no_service_key_speaks_for_a_subject_outside_its_names() -> None:
    assert not may_speak_for("gateway", "\0alice")
    assert not may_speak_for("ops", "trigger:x@v1")
    assert may_speak_for("agent", "probe:feed@v2")
