"""The export signing key: an Ed25519 private key in a PEM PKCS8 file (never in the database).

Rotation is replacing the file and restarting: the new key's public part is recorded on first
use and the previous one is marked retired (see keys.py). Key ids are the first 16 hex digits of
the SHA-256 of the raw 32-byte public key, so anyone holding the public key can recompute it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE_ENV, CREATE_DEV_KEY_ENV = (
    "TRADEOPS_EXPORT_SIGNING_KEY_FILE",
    "TRADEOPS_EXPORT_CREATE_DEV_KEY",
)
DEFAULT_KEY_FILE = ".tradeops/export-signing-key.pem"


class KeyFileError(Exception):
    """The signing key file is missing, unreadable or not an Ed25519 PKCS8 key."""


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


def load_signer(path: Path, *, create_if_missing: bool = False) -> Signer:
    """The key in `path`; with create_if_missing (development), a new key is written 0600 first."""
    if create_if_missing and not path.exists():
        _create(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot load the export signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 private key")
    return Signer(key)


def signer_from_env(env: dict[str, str] | os._Environ[str]) -> Signer:
    path = Path(env.get(KEY_FILE_ENV, DEFAULT_KEY_FILE)).resolve()
    return load_signer(path, create_if_missing=env.get(CREATE_DEV_KEY_ENV, "") == "1")


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another replica created it first
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
