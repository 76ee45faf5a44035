"""Token keys for the tests: one folder per session with the issuer's key, every process's key
and keys for the desk systems and tools the tests call as (a desk system calling gRPC directly
holds a service key of its own, registered in the trust file like a service's).

`Keys.token(subject, *roles)` mints what the subject would really hold: a person's token from
the issuer, or, with the `service` role, a service token from the key of the service the subject
names (svc:NAME, svc:NAME.PART, or one of the agent's trigger:... automations). Test service
tokens name every process's audience, so one token reaches any server a test starts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runtime import key_dir
from runtime.auth import SERVICE, TokenVerifier
from runtime.grpc_server import ServiceSpec
from runtime.keys import ISSUER, SigningKey, TrustStore
from runtime.settings import AuthSettings
from runtime.token_claims import service_audience
from runtime.tokens import ServiceIdentity, mint_person_token, mint_service_token

# "tests": the name of the in-process servers that are not one of the services.
CALLERS = (
    *key_dir.PROCESSES,
    "tests",
    "md",
    "md-gateway",
    "desk",
    "desk-gateway",
    "d",
    "bench",
    "drill-producer",
)


@dataclasses.dataclass(frozen=True)
class Keys:
    folder: Path
    settings: AuthSettings

    @classmethod
    def make(cls, folder: Path, ttl_s: int = 3600) -> Keys:
        key_dir.ensure(folder, CALLERS)
        trust_file = folder / "trust.json"
        settings = AuthSettings(
            trust=TrustStore.load(trust_file),
            issuer="tradeops-dev",
            audience="tradeops",
            token_ttl_s=ttl_s,
            name="tests",
            trust_file=trust_file,
        )
        return cls(folder, settings)

    def env(self) -> dict[str, str]:
        """What a process started by a test needs to find its keys."""
        return {key_dir.KEYS_DIR_ENV: str(self.folder)}

    def key(self, owner: str) -> SigningKey:
        return SigningKey.load(key_dir.private_path(self.folder, owner), owner)

    def serving(self, name: str) -> AuthSettings:
        """The settings of the process `name`: its key, and service tokens addressed to it."""
        return dataclasses.replace(self.settings, name=name, service_key=self.key(name))

    def token(self, subject: str, *roles: str, desk: str = "", ttl_s: int = 0) -> str:
        if SERVICE not in roles:
            return mint_person_token(self.key(ISSUER), self.settings, subject, roles, desk, ttl_s)
        owner = owner_of(subject)
        audiences = [service_audience(self.settings, name) for name in CALLERS]
        return mint_service_token(self.key(owner), owner, subject, audiences, ttl_s or 900)


def owner_of(subject: str) -> str:
    if subject.startswith(("trigger:", "probe:")):
        return "agent"
    name = subject.removeprefix("svc:").split(".")[0]
    if not subject.startswith("svc:") or name not in CALLERS:
        raise ValueError(f"no test key speaks for {subject!r}: use svc:NAME, NAME in {CALLERS}")
    return name


def _keys_of(settings: AuthSettings) -> Keys:
    assert settings.trust_file is not None, "settings from Keys.make"
    return Keys(settings.trust_file.parent, settings)


def verifier_for(spec: ServiceSpec, settings: AuthSettings) -> TokenVerifier:
    """The verifier of the process serving `spec`: service tokens must be addressed to it
    (named by its first gRPC service, tradeops.NAME.v1...; "tests" for test-only services)."""
    parts = spec.service_names[0].split(".")
    name = parts[1] if parts[0] == "tradeops" and parts[1] in key_dir.PROCESSES else "tests"
    return TokenVerifier(_keys_of(settings).serving(name))


def identity_for(subject: str, settings: AuthSettings) -> ServiceIdentity:
    """The identity a service's code uses, with that service's own key."""
    return ServiceIdentity(_keys_of(settings).serving(subject.split(".")[0]), subject)


def settings_for(name: str, settings: AuthSettings) -> AuthSettings:
    """The auth settings of the process `name` (its key; tokens addressed to it)."""
    return _keys_of(settings).serving(name)
