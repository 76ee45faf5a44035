"""The audit log's own settings, beside runtime.settings.ServiceSettings.

TRADEOPS_AUDIT_ORIGIN (default "tradeops.local/audit"): the checkpoints' origin line.
TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS (1000) and TRADEOPS_AUDIT_CHECKPOINT_EVERY_MS (1000):
a checkpoint is cut after that many new records, or that long after the last one if any record
arrived since. TRADEOPS_AUDIT_VERIFY_EVERY_S (3600): the scheduled auditor's period.
TRADEOPS_AUDIT_TREE_MEMORY_MB (256): the bound of the in-memory Merkle tree that serves proofs
(about 64 bytes per record; past it the lowest levels are read from the database again).
Signing keys: TRADEOPS_AUDIT_SIGNING_KEYS_FILE or TRADEOPS_AUDIT_SIGNING_KEYS (see
signing_keys below; service/keyring.py creates a development key file for `make run`).
WatchRecords' bounds: TRADEOPS_AUDIT_WATCH_MAX_SUBSCRIBERS, _BACKLOG, _HEARTBEAT_S, _POLL_S and
_REPLAY (domain.watch.WatchSettings has their defaults)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runtime.settings import SettingsError
from services.audit.log.domain.keyring import Keyring, KeyringError
from services.audit.log.domain.watch import WatchSettings

ENV_KEYS = "TRADEOPS_AUDIT_SIGNING_KEYS"
ENV_KEYS_FILE = "TRADEOPS_AUDIT_SIGNING_KEYS_FILE"


@dataclass(frozen=True)
class Settings:
    origin: str
    checkpoint_every_records: int
    checkpoint_every_ms: int
    verify_every_s: float
    tree_memory_bytes: int = 256 << 20
    watch: WatchSettings = field(default_factory=WatchSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            origin=env.get("TRADEOPS_AUDIT_ORIGIN", "tradeops.local/audit"),
            checkpoint_every_records=int(
                env.get("TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS", "1000")
            ),
            checkpoint_every_ms=int(env.get("TRADEOPS_AUDIT_CHECKPOINT_EVERY_MS", "1000")),
            verify_every_s=float(env.get("TRADEOPS_AUDIT_VERIFY_EVERY_S", "3600")),
            tree_memory_bytes=int(env.get("TRADEOPS_AUDIT_TREE_MEMORY_MB", "256")) << 20,
            watch=watch_from_env(env),
        )


WATCH_ENV = "TRADEOPS_AUDIT_WATCH_"


def watch_from_env(env: Mapping[str, str]) -> WatchSettings:
    """Each bound from TRADEOPS_AUDIT_WATCH_<NAME>, a positive number (whole where the default
    is), or its default."""
    default = WatchSettings()
    return WatchSettings(
        max_subscribers=int(_positive(env, "MAX_SUBSCRIBERS", default.max_subscribers)),
        backlog=int(_positive(env, "BACKLOG", default.backlog)),
        heartbeat_s=_positive(env, "HEARTBEAT_S", default.heartbeat_s),
        poll_s=_positive(env, "POLL_S", default.poll_s),
        replay=int(_positive(env, "REPLAY", default.replay)),
    )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    variable = WATCH_ENV + name
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        value = 0
    if not 0 < value < float("inf"):
        kind = "whole number" if isinstance(default, int) else "number"
        raise SettingsError(f"{variable} must be a positive {kind}, not {raw!r}")
    return value


def signing_keys(env: Mapping[str, str]) -> Keyring:
    """The keyring from exactly one of TRADEOPS_AUDIT_SIGNING_KEYS_FILE (a path) and
    TRADEOPS_AUDIT_SIGNING_KEYS (the JSON itself). Read apart from Settings, which is printed
    and passed around: the keys are secrets and stay in the Keyring alone."""
    path, content = env.get(ENV_KEYS_FILE), env.get(ENV_KEYS)
    if path and content:
        raise KeyringError(f"set only one of {ENV_KEYS_FILE} and {ENV_KEYS}")
    if path:
        return keys_file(Path(path))
    if content:
        return Keyring.from_json(content)
    raise KeyringError(f"no audit signing keys: set {ENV_KEYS_FILE} or {ENV_KEYS}")


def keys_file(path: Path) -> Keyring:
    try:
        return Keyring.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyringError(f"cannot read signing keys from {path}: {exc.strerror}") from exc
