"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, read as golang.org/x/mod/sumdb/note does.

`sign` and `open_note` are the seam: a note that `open_note` returns has at least one signature
verified by a known key; every refusal (of a note or of a key string) is a `NoteError` whose
`reason` says which kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "
_MAX_SIGNATURES = 100  # as Go: bounds the work an untrusted note can ask for
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


class Reason(StrEnum):
    MALFORMED = "malformed note"
    BAD_SIGNATURE = "invalid signature"
    UNVERIFIED = "no verifiable signatures"
    BAD_KEY = "malformed key"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    b64: str


@dataclass(frozen=True)
class Opened:
    text: str
    verified: list[Signature] = field(default_factory=list)
    unverified: list[Signature] = field(default_factory=list)


class NoteError(ValueError):
    """A refusal. `opened` is set for UNVERIFIED, so a caller can name the unknown signers."""

    def __init__(self, reason: Reason, detail: str = "", opened: Opened | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.opened = opened


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
        return f"{self.name}+{self.key_id.hex()}+{_b64(_ED25519 + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    def __init__(self, name: str, seed: bytes) -> None:
        if not _valid_name(name) or len(seed) != 32:
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
        seed = _b64(_ED25519 + self._key.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{seed}"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer(vkey={self.vkey!r})"


def sign(text: str, signers: Iterable[Signer]) -> str:
    _check_chars(text)
    if not text.endswith("\n"):
        raise NoteError(Reason.MALFORMED, "text must end in a newline")
    lines = [_signature_line(signer, text.encode()) for signer in signers]
    if not lines:
        raise NoteError(Reason.MALFORMED, "a note needs at least one signer")
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> Opened:
    text, block = _split(_decode(note))
    known = {(v.name, v.key_id): v for v in verifiers}
    opened = Opened(text)
    seen: set[tuple[str, bytes]] = set()
    for sig, raw in _parse_block(block):
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in opened.unverified:
                opened.unverified.append(sig)
        elif (sig.name, sig.key_id) not in seen:
            # As Go: the first signature of a known key decides; a bad one fails the whole note.
            seen.add((sig.name, sig.key_id))
            if not verifier.verify(text.encode(), raw):
                raise NoteError(Reason.BAD_SIGNATURE, f"for key {sig.name}+{sig.key_id.hex()}")
            opened.verified.append(sig)
    if not opened.verified:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in opened.unverified)
        raise NoteError(Reason.UNVERIFIED, f"signed only by [{names}]", opened)
    return opened


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str, reason: Reason) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise NoteError(reason, "bad base64") from exc


def _split_key(text: str) -> tuple[str, str, bytes]:
    name, _, rest = text.partition("+")
    id_hex, _, key_b64 = rest.partition("+")
    if not _valid_name(name) or not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(Reason.BAD_KEY, "expected name+keyid+base64key")
    return name, id_hex, _unb64(key_b64, Reason.BAD_KEY)


def _check_chars(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise NoteError(Reason.MALFORMED, "not valid UTF-8") from exc
    if any(char < " " and char != "\n" for char in text):
        raise NoteError(Reason.MALFORMED, "control character other than newline")


def _decode(note: str | bytes) -> str:
    try:
        text = note.decode() if isinstance(note, bytes) else note
    except UnicodeDecodeError as exc:
        raise NoteError(Reason.MALFORMED, "not valid UTF-8") from exc
    _check_chars(text)
    return text


def _split(note: str) -> tuple[str, str]:
    # The signatures follow the LAST blank line: the text itself may hold blank lines.
    split = note.rfind("\n\n")
    block = note[split + 2 :]
    if split < 0 or not block.endswith("\n"):
        raise NoteError(Reason.MALFORMED, "no signature lines after a blank line")
    return note[: split + 1], block


def _parse_block(block: str) -> list[tuple[Signature, bytes]]:
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(Reason.MALFORMED, f"more than {_MAX_SIGNATURES} signatures")
    return [_parse_line(line) for line in lines]


def _parse_line(line: str) -> tuple[Signature, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError(Reason.MALFORMED, "a signature line starts with an em dash and a space")
    name, _, b64 = line.removeprefix(_SIG_PREFIX).partition(" ")
    blob = _unb64(b64, Reason.MALFORMED)
    if not _valid_name(name) or len(blob) < 5:
        raise NoteError(Reason.MALFORMED, "bad signature line")
    return Signature(name, blob[:4], b64), blob[4:]


def _signature_line(signer: Signer, message: bytes) -> str:
    return f"{_SIG_PREFIX}{signer.name} {_b64(signer.key_id + signer.sign(message))}\n"
