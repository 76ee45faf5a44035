"""C2SP tlog-checkpoint bodies (c2sp.org/tlog-checkpoint) and their signed notes.

`open_checkpoint` is the only way a reader should get a Checkpoint out of an untrusted note: the
note must carry a verified signature, its body must parse strictly, and its origin must be the one
the reader expected. Every refusal is a NoteError (CheckpointError for the body and the origin).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.audit.log.domain.note import NoteError, Reason, Signer, Verifier, open_note, sign

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**64 - 1  # RFC 6962 tree sizes are uint64


class CheckpointError(NoteError):
    def __init__(self, detail: str) -> None:
        super().__init__(Reason.MALFORMED, f"checkpoint: {detail}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _is_line(self.origin):
            raise CheckpointError("the origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError("the tree size must fit an unsigned 64-bit integer")
        if len(self.root) != 32:
            raise CheckpointError("the root hash must be 32 bytes")
        if not all(_is_line(extension) for extension in self.extensions):
            raise CheckpointError("extension lines must be non-empty single lines")

    def format(self) -> str:
        root = base64.b64encode(self.root).decode()
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointError("the body must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("the body needs an origin, a tree size and a root hash line")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise CheckpointError("the tree size must be decimal digits without leading zeros")
        return cls(origin, int(size), _root(root), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    return sign(checkpoint.format(), [signer])


def open_checkpoint(note: str | bytes, verifiers: Iterable[Verifier], origin: str) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifiers).text)
    if checkpoint.origin != origin:
        raise CheckpointError(f"origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint


def _is_line(text: str) -> bool:
    return bool(text) and "\n" not in text


def _root(text: str) -> bytes:
    try:
        root = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise CheckpointError("the root hash is not base64") from exc
    # Only the canonical encoding is accepted, so one root has exactly one checkpoint text.
    if base64.b64encode(root).decode() != text:
        raise CheckpointError("the root hash is not canonical base64")
    return root
