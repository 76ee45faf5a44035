"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, as golang.org/x/mod/sumdb/note reads them.

`sign` and `open_note` are the seam: a note that `open_note` returns has at least one signature
verified by a known key; every refusal is a `NoteError` whose `reason` says which kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from services.audit.note_keys import Signer, Verifier, valid_name

__all__ = ["NoteError", "Opened", "Reason", "Signature", "Signer", "Verifier", "open_note", "sign"]

_SIG_PREFIX = "\u2014 "
# Go refuses more; the cap bounds the work an untrusted note can ask for.
_MAX_SIGNATURES = 100


class Reason(StrEnum):
    MALFORMED = "malformed note"
    BAD_SIGNATURE = "invalid signature"
    UNVERIFIED = "no verifiable signatures"


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
    """A refused note. `opened` is set for UNVERIFIED, so callers can name the unknown signers."""

    def __init__(self, reason: str, detail: str = "", opened: Opened | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.opened = opened


def sign(text: str, signers: Iterable[Signer]) -> str:
    _check_text(text)
    message = text.encode()
    lines = [_signature_line(signer, message) for signer in signers]
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
            # Like Go, only the first signature per key counts; a bad one fails the whole note.
            seen.add((sig.name, sig.key_id))
            if not verifier.verify(text.encode(), raw):
                raise NoteError(Reason.BAD_SIGNATURE, f"for key {verifier.name}+{sig.key_id.hex()}")
            opened.verified.append(sig)
    if not opened.verified:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in opened.unverified)
        raise NoteError(Reason.UNVERIFIED, f"signed only by {names}", opened)
    return opened


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError(Reason.MALFORMED, "text must end in a newline")
    if any(ord(char) < 0x20 and char != "\n" for char in text):
        raise NoteError(Reason.MALFORMED, "text holds a control character")
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise NoteError(Reason.MALFORMED, "text is not valid UTF-8") from exc


def _signature_line(signer: Signer, message: bytes) -> str:
    blob = signer.key_id + signer.sign(message)
    return f"{_SIG_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n"


def _decode(note: str | bytes) -> str:
    try:
        text = note.decode() if isinstance(note, bytes) else note
        text.encode()
    except UnicodeError as exc:
        raise NoteError(Reason.MALFORMED, "not valid UTF-8") from exc
    if any(ord(char) < 0x20 and char != "\n" for char in text):
        raise NoteError(Reason.MALFORMED, "control character")
    return text


def _split(note: str) -> tuple[str, str]:
    # The signatures follow the LAST blank line: the text itself may hold blank lines.
    split = note.rfind("\n\n")
    block = note[split + 2 :]
    if split < 0 or not block.endswith("\n"):
        raise NoteError(Reason.MALFORMED, "no signature block after a blank line")
    return note[: split + 1], block


def _parse_block(block: str) -> list[tuple[Signature, bytes]]:
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(Reason.MALFORMED, f"more than {_MAX_SIGNATURES} signatures")
    return [_parse_line(line) for line in lines]


def _parse_line(line: str) -> tuple[Signature, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError(Reason.MALFORMED, "a signature line must start with an em dash")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    try:
        blob = base64.b64decode(b64, validate=True)
    except binascii.Error as exc:
        raise NoteError(Reason.MALFORMED, "signature is not base64") from exc
    if not valid_name(name) or len(blob) < 5:
        raise NoteError(Reason.MALFORMED, "bad signature line")
    return Signature(name, blob[:4], b64), blob[4:]


def key_id_of(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
