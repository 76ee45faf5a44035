"""Typed settings read from environment variables once, in a process's __main__, then passed down.

Every variable, its default and its meaning is listed in README.md ("Configuration")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runtime import egress, key_dir, targets
from runtime.console_settings import ConsoleSettings
from runtime.keys import KeyFileError, SigningKey, TrustStore
from runtime.message_limits import grpc_message_limit, max_body_bytes
from runtime.refusals import DEFAULT_REFUSALS, RefusalSettings

SERVICES = ("agent", "ops", "export", "audit")
DEFAULT_PORTS = {"agent": 50051, "ops": 50052, "export": 50053, "audit": 50054}


class SettingsError(ValueError):
    """A required variable is missing or malformed."""


@dataclass(frozen=True)
class OidcSettings:
    """People's tokens from the firm's identity provider (RS256, ES256 or EdDSA), checked
    against its JWKS. Providers put roles in different places: `roles_claim` is a dotted path
    (`roles`, `groups`, `realm_access.roles`)."""

    jwks_url: str
    issuer: str
    audience: str
    roles_claim: str = "roles"
    subject_claim: str = "sub"
    # Unknown key ids trigger a JWKS fetch at most this often (a flood of made-up ids must not
    # turn into a flood of requests to the provider).
    refresh_min_s: float = 30.0
    # Fetched keys are used this long, then fetched again: a key the provider withdrew (a leak)
    # stops verifying new tokens within this time even if no new key id ever shows up.
    max_age_s: float = 300.0
    egress: egress.EgressPolicy = egress.DEFAULT  # judged at start and at every fetch

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        url = env.get("TRADEOPS_OIDC_JWKS_URL", "")
        if not url:
            return None
        missing = [n for n in ("ISSUER", "AUDIENCE") if not env.get(f"TRADEOPS_OIDC_{n}")]
        if missing:
            names = ", ".join(f"TRADEOPS_OIDC_{n}" for n in missing)
            raise SettingsError(f"TRADEOPS_OIDC_JWKS_URL is set but {names} is not")
        policy = egress_policy(env)
        try:
            policy.check_url(url)
        except egress.Refused as exc:
            raise SettingsError(f"TRADEOPS_OIDC_JWKS_URL: {exc}") from None
        return cls(
            jwks_url=url,
            issuer=env["TRADEOPS_OIDC_ISSUER"],
            audience=env["TRADEOPS_OIDC_AUDIENCE"],
            roles_claim=env.get("TRADEOPS_OIDC_ROLES_CLAIM", "roles"),
            subject_claim=env.get("TRADEOPS_OIDC_SUBJECT_CLAIM", "sub"),
            refresh_min_s=float(env.get("TRADEOPS_OIDC_REFRESH_MIN_S", "30")),
            max_age_s=float(env.get("TRADEOPS_OIDC_KEYS_MAX_AGE_S", "300")),
            egress=policy,
        )


@dataclass(frozen=True)
class AuthSettings:
    # Public keys of the local issuer and of every service (runtime.keys), and the file they
    # came from: it is read again when a token names a key id not seen yet (a rotation).
    trust: TrustStore
    issuer: str
    audience: str
    token_ttl_s: int
    # When set, people sign in through the identity provider; the local issuer's tokens are
    # then refused, and the trust file vouches for services only.
    oidc: OidcSettings | None = None
    # This process ("" for a command-line tool): service tokens addressed to it are accepted,
    # and its own key signs the tokens it sends.
    name: str = ""
    service_key: SigningKey | None = field(default=None, repr=False)
    trust_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], name: str = "") -> AuthSettings:
        trust_path = key_dir.trust_file(env)
        try:
            trust = TrustStore.load(trust_path)
            key = SigningKey.load(key_dir.service_key_file(env, name), name) if name else None
        except KeyFileError as exc:
            raise SettingsError(f"{exc} (`tradeops keys init` makes them)") from None
        if key is not None and (trust.owner_of(key.kid) or ("",))[0] != name:
            raise SettingsError(f"the trust file {trust_path} does not pin {name}'s key {key.kid}")
        return cls(
            trust=trust,
            issuer=env.get("TRADEOPS_JWT_ISSUER", "tradeops-dev"),
            audience=env.get("TRADEOPS_JWT_AUDIENCE", "tradeops"),
            token_ttl_s=int(env.get("TRADEOPS_TOKEN_TTL_S", "3600")),
            oidc=OidcSettings.from_env(env),
            name=name,
            service_key=key,
            trust_file=trust_path,
        )


@dataclass(frozen=True)
class ServiceSettings:
    """What one gRPC service process needs."""

    name: str
    database_url: str = field(repr=False)
    listen: str
    peers: Mapping[str, str]
    auth: AuthSettings
    rpc_timeout_s: float
    export_dir: Path
    outbox_poll_s: float
    # An export still requested/generating with no sign of life for this long was interrupted.
    export_stale_after_s: float = 120.0
    max_message_bytes: int = 4 * 1024 * 1024  # the largest gRPC request it accepts
    refusals: RefusalSettings = DEFAULT_REFUSALS  # how refused calls are audited

    @classmethod
    def from_env(cls, name: str, env: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if env is None else env
        return cls(
            name=name,
            database_url=database_url(name, env),
            listen=env.get("TRADEOPS_GRPC_LISTEN", f"127.0.0.1:{DEFAULT_PORTS[name]}"),
            peers=peer_addresses(env),
            auth=AuthSettings.from_env(env, name),
            rpc_timeout_s=float(env.get("TRADEOPS_RPC_TIMEOUT_S", "5")),
            export_dir=Path(env.get("TRADEOPS_EXPORT_DIR", ".tradeops/exports")).resolve(),
            outbox_poll_s=float(env.get("TRADEOPS_OUTBOX_POLL_S", "0.5")),
            export_stale_after_s=float(env.get("TRADEOPS_EXPORT_STALE_AFTER_S", "120")),
            max_message_bytes=grpc_message_limit(name, env),
            refusals=RefusalSettings.from_env(env),
        )


@dataclass(frozen=True)
class GatewaySettings:
    listen_host: str
    listen_port: int
    peers: Mapping[str, str]
    auth: AuthSettings
    rpc_timeout_s: float
    max_body_bytes: int
    # The deadline of the calls that run as long as their data is large (creating, verifying
    # and redelivering exports, verifying the audit log): past it the service drops the work.
    long_rpc_timeout_s: float = 300.0
    refusals: RefusalSettings = DEFAULT_REFUSALS  # how 401s and 403s are audited
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        return cls(
            listen_host=env.get("TRADEOPS_GATEWAY_HOST", "127.0.0.1"),
            listen_port=int(env.get("TRADEOPS_GATEWAY_PORT", "8000")),
            peers=peer_addresses(env),
            auth=AuthSettings.from_env(env, "gateway"),
            rpc_timeout_s=float(env.get("TRADEOPS_RPC_TIMEOUT_S", "5")),
            max_body_bytes=max_body_bytes(env),
            long_rpc_timeout_s=float(env.get("TRADEOPS_LONG_RPC_TIMEOUT_S", "300")),
            refusals=RefusalSettings.from_env(env),
            console=ConsoleSettings.from_env(env),
        )


def peer_addresses(env: Mapping[str, str]) -> dict[str, str]:
    """Each service's gRPC target, from TRADEOPS_<SVC>_ADDR (one or several: runtime.targets)."""
    try:
        return targets.from_env(env, DEFAULT_PORTS)
    except targets.BadTarget as exc:
        raise SettingsError(str(exc)) from None


def database_url(service: str, env: Mapping[str, str]) -> str:
    """TRADEOPS_<SVC>_DATABASE_URL, else the shared TRADEOPS_DATABASE_URL."""
    url = env.get(f"TRADEOPS_{service.upper()}_DATABASE_URL") or env.get("TRADEOPS_DATABASE_URL")
    if not url:
        raise SettingsError(
            f"set TRADEOPS_{service.upper()}_DATABASE_URL or TRADEOPS_DATABASE_URL "
            "(`make run` sets both for its embedded PostgreSQL)"
        )
    return url


def egress_policy(env: Mapping[str, str]) -> egress.EgressPolicy:
    """TRADEOPS_EGRESS_ALLOW: where URLs and hosts operators set may lead;
    runtime/egress.py has the rules. A malformed entry stops the process at start."""
    try:
        return egress.parse(env.get(egress.SETTING, ""))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
