"""Token keys: Ed25519 key pairs, one for the local issuer of people's tokens and one per
service, and the trust file that pins their public halves.

The trust file is configuration every process reads: which key ids belong to the issuer and
which to each service. A private key is read only by the process it belongs to (a service its
own, `tradeops token` the issuer's); the gateway gets no issuer key, so holding the gateway's
files is not enough to mint a person's token. A rotation adds a key id; the old public key stays
in the trust file so tokens signed before the rotation verify until they expire.

Trust file (JSON): {"issuer": {KID: PEM, ...}, "services": {NAME: {KID: PEM, ...}, ...}}.
Key ids are "<owner>-" and the first 16 hex digits of the SHA-256 of the raw public key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runtime.keyfiles import write_atomically

ISSUER = "issuer"


class KeyFileError(ValueError):
    """A key or trust file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, owner: str) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        return cls(key_id(owner, private.public_key()), private)

    @classmethod
    def load(cls, path: Path, owner: str) -> SigningKey:
        private = load_private_key(path, f"the {owner} key")
        return cls(key_id(owner, private.public_key()), private)

    def public_pem(self) -> str:
        return public_pem(self.private.public_key())

    def save(self, path: Path) -> None:
        """Written 0600 beside `path` first, then renamed: a reader never sees half a key."""
        write_atomically(path, private_pem(self.private))


def load_private_key(path: Path, what: str) -> Ed25519PrivateKey:
    """An Ed25519 private key, PEM PKCS8 without a password (the file's mode protects it)."""
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot load {what} {path}: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 private key")
    return private


def private_pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_id(owner: str, public: Ed25519PublicKey) -> str:
    return f"{owner}-{fingerprint(public)}"


def fingerprint(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw 32-byte key: anyone holding the public
    key can recompute it (export key ids are this alone)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    """Raises ValueError when `pem` is not an Ed25519 SubjectPublicKeyInfo."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class TrustStore:
    """Public keys by key id, each with its owner: ISSUER or a service's name."""

    keys: Mapping[str, tuple[str, Ed25519PublicKey]] = field(default_factory=dict)

    def owner_of(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        return self.keys.get(kid)

    def with_key(self, owner: str, public: Ed25519PublicKey) -> TrustStore:
        return TrustStore({**self.keys, key_id(owner, public): (owner, public)})

    def owners(self) -> set[str]:
        return {owner for owner, _ in self.keys.values()}

    @classmethod
    def load(cls, path: Path) -> TrustStore:
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise KeyFileError(f"cannot read the trust file {path}: {exc.strerror}") from None

    @classmethod
    def from_json(cls, content: str) -> TrustStore:
        try:
            document = json.loads(content)
            groups = {ISSUER: document.get(ISSUER, {}), **document.get("services", {})}
            return cls(
                {
                    kid: (owner, _public(owner, kid, pem))
                    for owner, keys in groups.items()
                    for kid, pem in keys.items()
                }
            )
        except (ValueError, AttributeError) as exc:
            raise KeyFileError(f"malformed trust file: {exc}") from None

    def to_json(self) -> str:
        issuer: dict[str, str] = {}
        services: dict[str, dict[str, str]] = {}
        for kid, (owner, public) in sorted(self.keys.items()):
            group = issuer if owner == ISSUER else services.setdefault(owner, {})
            group[kid] = public_pem(public)
        return json.dumps({ISSUER: issuer, "services": services}, indent=2) + "\n"


def _public(owner: str, kid: str, pem: str) -> Ed25519PublicKey:
    try:
        key = load_public_pem(pem.encode())
    except ValueError as exc:
        raise ValueError(f"{kid}: {exc}") from None
    # The id names its owner: a key listed under one service cannot pose as another's.
    if key_id(owner, key) != kid:
        raise ValueError(f"{kid} does not match its public key")
    return key
