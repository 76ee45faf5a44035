"""Export signing keys: the Ed25519 signer (its private key is read from a file by
service/signing_key.py, never stored in the database) and the public parts anyone may hold.

The keys this service trusts (PinnedKeys) are pinned in files alone: the current key file and
the verify-keys file of earlier keys' public parts, never rows the service's database role can
write. `tradeops keys rotate export` writes both (service/signing_key.py). Key ids are the
first 16 hex digits of the SHA-256 of the raw 32-byte public key, so anyone holding the public
key can recompute it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runtime import keys
from runtime.keys import fingerprint, load_public_pem


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
    """A signing key's public part as pinned: current while retired_at is None."""

    key_id: str
    pem: str
    created_at: datetime
    retired_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        retired = self.retired_at.isoformat() if self.retired_at else None
        return {
            "key_id": self.key_id,
            "pem": self.pem,
            "created_at": self.created_at.isoformat(),
            "retired_at": retired,
        }


class KeysError(ValueError):
    """A verify-keys file that cannot be trusted as written."""


@dataclass(frozen=True)
class PinnedKeys:
    """The public keys exports are verified against and listed with, newest first."""

    keys: tuple[PublicKey, ...] = ()

    @classmethod
    def of(cls, signer: Signer, created_at: datetime, earlier: list[PublicKey]) -> PinnedKeys:
        """The current signer's key (created_at kept from `earlier` when listed there) and the
        other keys of `earlier`."""
        listed = {key.key_id: key for key in earlier}
        mine = listed.pop(signer.key_id, None)
        born = mine.created_at if mine else created_at
        current = PublicKey(signer.key_id, signer.public_pem.decode(), born, None)
        others = sorted(listed.values(), key=lambda key: key.created_at, reverse=True)
        return cls((current, *others))

    def pem_of(self, key_id: str) -> bytes | None:
        return next((key.pem.encode() for key in self.keys if key.key_id == key_id), None)


def parse_public_keys(content: str, source: str) -> list[PublicKey]:
    """The verify-keys file: a JSON list of {"key_id", "pem", "created_at", "retired_at"}; each
    key_id must be the one its pem gives, so no entry can vouch under another key's name."""
    try:
        entries = json.loads(content)
        if not isinstance(entries, list):
            raise KeysError("expected a JSON list")
        return [_public_key(entry) for entry in entries]
    except (KeysError, ValueError, TypeError, KeyError) as exc:
        raise KeysError(f"{source}: not a list of export public keys: {exc}") from None


def public_keys_json(keys: list[PublicKey]) -> str:
    return json.dumps([key.as_json() for key in keys], indent=2) + "\n"


def _public_key(entry: Any) -> PublicKey:
    fields = {"key_id", "pem", "created_at", "retired_at"}
    if not isinstance(entry, dict) or set(entry) != fields:
        raise KeysError(f"each entry needs exactly the fields {sorted(fields)}")
    computed = key_id(load_public_pem(str(entry["pem"]).encode()))
    if computed != entry["key_id"]:
        raise KeysError(f"key_id {entry['key_id']!r} is not the id of its pem ({computed})")
    retired = entry["retired_at"]
    return PublicKey(
        computed,
        entry["pem"],
        _aware(datetime.fromisoformat(entry["created_at"])),
        _aware(datetime.fromisoformat(retired)) if retired is not None else None,
    )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise KeysError(f"{at.isoformat()}: a time needs its UTC offset")
    return at


def key_id(public_key: Ed25519PublicKey) -> str:
    return fingerprint(public_key)


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return keys.public_pem(public_key).encode()
