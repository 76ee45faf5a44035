"""Export signing keys: the Ed25519 signer (its private key is read from a file by
service/signing_key.py, never stored in the database) and the public parts anyone may hold.

Rotation is replacing the key file and restarting: the new key's public part is recorded on
first use and the previous one is marked retired (repository/signing_keys.py). Key ids are the
first 16 hex digits of the SHA-256 of the raw 32-byte public key, so anyone holding the public
key can recompute it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_pem(self) -> bytes:
        return public_pem(self.private_key.public_key())

    @property
    def key_id(self) -> str:
        return key_id(self.private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


@dataclass(frozen=True)
class PublicKey:
    """A signing key's public part as recorded: current while retired_at is None."""

    key_id: str
    pem: str
    created_at: datetime
    retired_at: datetime | None


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    """Raises ValueError when `pem` is not an Ed25519 SubjectPublicKeyInfo."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
