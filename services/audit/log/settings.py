"""The audit log's own settings, beside runtime.settings.ServiceSettings.

TRADEOPS_AUDIT_ORIGIN (default "tradeops.local/audit"): the checkpoints' origin line.
TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS (1000) and TRADEOPS_AUDIT_CHECKPOINT_EVERY_MS (1000):
a checkpoint is cut after that many new records, or that long after the last one if any record
arrived since. TRADEOPS_AUDIT_VERIFY_EVERY_S (3600): the scheduled auditor's period.
TRADEOPS_AUDIT_TREE_MEMORY_MB (256): the bound of the in-memory Merkle tree that serves proofs
(about 64 bytes per record; past it the lowest levels are read from the database again).
Signing keys: TRADEOPS_AUDIT_SIGNING_KEYS_FILE or TRADEOPS_AUDIT_SIGNING_KEYS (see
domain/keyring.py), read by service/keyring.py."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


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
