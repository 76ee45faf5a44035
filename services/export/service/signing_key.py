"""The export signing key's file: an Ed25519 private key, PEM PKCS8, read once at start-up
(settings.py names the file). It never reaches the database; for development it may be created
when missing."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.export.domain.signing import Signer


class KeyFileError(Exception):
    """The signing key file is missing, unreadable or not an Ed25519 PKCS8 key."""


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
