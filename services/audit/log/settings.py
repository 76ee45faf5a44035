"""The audit log's own settings, beside runtime.settings.ServiceSettings.

TRADEOPS_AUDIT_ORIGIN (default "tradeops.local/audit"): the checkpoints' origin line.
TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS (1000) and TRADEOPS_AUDIT_CHECKPOINT_EVERY_MS (1000):
a checkpoint is cut after that many new records, or that long after the last one if any record
arrived since. TRADEOPS_AUDIT_VERIFY_EVERY_S (3600): the scheduled auditor's period.
TRADEOPS_AUDIT_TREE_MEMORY_MB (256): the bound of the in-memory Merkle tree that serves proofs
(about 64 bytes per record; past it the lowest levels are read from the database again).
Signing keys: TRADEOPS_AUDIT_SIGNING_KEYS_FILE or TRADEOPS_AUDIT_SIGNING_KEYS (see
signing_keys below; service/keyring.py creates a development key file for `make run`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.audit.log.domain.keyring import Keyring, KeyringError

ENV_KEYS = "TRADEOPS_AUDIT_SIGNING_KEYS"
ENV_KEYS_FILE = "TRADEOPS_AUDIT_SIGNING_KEYS_FILE"


@dataclass(frozen=True)
class Settings:
    origin: str
    checkpoint_every_records: int
    checkpoint_every_ms: int
    verify_every_s: float
    tree_memory_bytes: int = 256 << 20

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
        )


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
