"""Signing a note and opening one (c2sp.org/signed-note), read as golang.org/x/mod/sumdb/note
does: the text, a blank line, then one `— name base64(key id || signature)` line per signer.
A note that `open_note` returns has at least one signature verified by a known key."""

from __future__ import annotations

from collections.abc import Iterable

from services.audit.log.domain.note.keys import Signer, Verifier, b64, unb64, valid_name
from services.audit.log.domain.note.outcomes import NoteError, Opened, Reason, Signature

_SIG_PREFIX = "\u2014 "
_MAX_SIGNATURES = 100  # as Go: bounds the work an untrusted note can ask for


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
    name, _, encoded = line.removeprefix(_SIG_PREFIX).partition(" ")
    blob = unb64(encoded, Reason.MALFORMED)
    if not valid_name(name) or len(blob) < 5:
        raise NoteError(Reason.MALFORMED, "bad signature line")
    return Signature(name, blob[:4], encoded), blob[4:]


def _signature_line(signer: Signer, message: bytes) -> str:
    return f"{_SIG_PREFIX}{signer.name} {b64(signer.key_id + signer.sign(message))}\n"
