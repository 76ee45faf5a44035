"""Ed25519 note keys as golang.org/x/mod/sumdb/note writes them: a verifier key
`name+keyid+base64(0x01 || public key)`, a signer key `PRIVATE+KEY+name+keyid+base64(0x01 ||
seed)`, the key id being the first four bytes of SHA-256(name || "\\n" || 0x01 || public key).
A key string that does not parse is a NoteError with Reason.BAD_KEY."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.audit.log.domain.note.outcomes import NoteError, Reason

_ED25519 = b"\x01"
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        name, id_hex, key = _split_key(vkey)
        if key[:1] != _ED25519 or len(key) != 33:
            raise NoteError(Reason.BAD_KEY, "not an Ed25519 verifier key")
        if key_id(name, key[1:]).hex() != id_hex.lower():
            raise NoteError(Reason.BAD_KEY, "key id does not match the key")
        return cls(name, key_id(name, key[1:]), key[1:])

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(_ED25519 + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_name(name) or len(seed) != 32:
            raise NoteError(Reason.BAD_KEY, "bad signer name or seed length")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, key_id(name, public), public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def parse(cls, skey: str) -> Signer:
        # Errors never quote the skey: they end up in logs.
        if not skey.startswith("PRIVATE+KEY+"):
            raise NoteError(Reason.BAD_KEY, "a signer key starts with PRIVATE+KEY+")
        name, id_hex, seed = _split_key(skey.removeprefix("PRIVATE+KEY+"))
        if seed[:1] != _ED25519:
            raise NoteError(Reason.BAD_KEY, "not an Ed25519 signer key")
        signer = cls(name, seed[1:])
        if signer.key_id.hex() != id_hex.lower():
            raise NoteError(Reason.BAD_KEY, "key id does not match the key")
        return signer

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def skey(self) -> str:
        seed = b64(_ED25519 + self._key.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{seed}"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer(vkey={self.vkey!r})"


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str, reason: Reason) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise NoteError(reason, "bad base64") from exc


def _split_key(text: str) -> tuple[str, str, bytes]:
    name, _, rest = text.partition("+")
    id_hex, _, key_b64 = rest.partition("+")
    if not valid_name(name) or not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(Reason.BAD_KEY, "expected name+keyid+base64key")
    return name, id_hex, unb64(key_b64, Reason.BAD_KEY)
