"""The export signing key's files: the Ed25519 private key, PEM PKCS8, read once at start-up, and
the verify-keys file of earlier keys' public parts (settings.py names both). Neither reaches the
database; for development the key may be created when missing. `rotate` replaces the key and
keeps the old public part for verification (`tradeops keys rotate export`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime import keys
from runtime.keyfiles import write_atomically
from runtime.keys import load_private_key, private_pem
from services.export.domain.signing import (
    KeysError,
    PinnedKeys,
    PublicKey,
    Signer,
    parse_public_keys,
    public_keys_json,
)


class KeyFileError(Exception):
    """The signing key file is missing, unreadable or not an Ed25519 PKCS8 key, or the
    verify-keys file cannot be read as a list of public keys."""


def load_signer(path: Path, *, create_if_missing: bool = False) -> Signer:
    """The key in `path`; with create_if_missing (development), a new key is written 0600 first."""
    if create_if_missing and not path.exists():
        write_new_key(path)
    try:
        return Signer(load_private_key(path, "the export signing key"))
    except keys.KeyFileError as exc:
        raise KeyFileError(str(exc)) from None


def write_new_key(path: Path) -> None:
    """A fresh Ed25519 key in `path`, PEM PKCS8, readable by its owner alone; a file that
    appeared there meanwhile is kept."""
    write_atomically(path, private_pem(Ed25519PrivateKey.generate()), keep=True)


def create_signing_key(key_file: Path, verify_keys_file: Path, now: datetime) -> list[Path]:
    """For a deployment (`tradeops deploy init`): a new key (0600) where `key_file` is missing,
    and a verify-keys file pinning the current key's public part, created `now`, where that is
    missing. Existing files are kept. Returns the files written."""
    written = []
    if not key_file.exists():
        write_new_key(key_file)
        written.append(key_file)
    if not verify_keys_file.exists():
        signer = load_signer(key_file)
        pinned = PublicKey(signer.key_id, signer.public_pem.decode(), now, None)
        write_atomically(
            verify_keys_file, public_keys_json([pinned]).encode(), mode=0o644, keep=True
        )
        written.append(verify_keys_file)
    return written


def load_pinned_keys(key_file: Path, verify_keys_file: Path, signer: Signer) -> PinnedKeys:
    """The keys to trust: the signer's and those of the verify-keys file. The current key's
    created_at is its entry's there when listed, else the key file's modification time (the
    file is where the key was made or put; nothing else records when)."""
    mtime = datetime.fromtimestamp(key_file.stat().st_mtime, UTC)
    return PinnedKeys.of(signer, mtime, earlier_keys(verify_keys_file))


def earlier_keys(verify_keys_file: Path) -> list[PublicKey]:
    """The verify-keys file's keys; none when the file does not exist."""
    try:
        content = verify_keys_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeyFileError(f"cannot read {verify_keys_file}: {exc.strerror}") from None
    try:
        return parse_public_keys(content, str(verify_keys_file))
    except KeysError as exc:
        raise KeyFileError(str(exc)) from None


def rotate(key_file: Path, verify_keys_file: Path, now: datetime) -> tuple[PublicKey, PublicKey]:
    """A new private key in `key_file`; the old key's public part, retired at `now`, and the new
    one's are written to the verify-keys file first, so a crash in between never leaves a key
    in use whose public part is not pinned. Returns (old, new)."""
    old_signer = load_signer(key_file)
    pinned = load_pinned_keys(key_file, verify_keys_file, old_signer)
    old = replace(pinned.keys[0], retired_at=now)
    new_signer = Signer(Ed25519PrivateKey.generate())
    new = PublicKey(new_signer.key_id, new_signer.public_pem.decode(), now, None)
    listed = [new, old, *pinned.keys[1:]]
    write_atomically(verify_keys_file, public_keys_json(listed).encode(), mode=0o644)
    write_atomically(key_file, private_pem(new_signer.private_key))
    return old, new
