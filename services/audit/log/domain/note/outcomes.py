"""What opening a signed note gives: the note with its signatures sorted into verified and
unverified, or a refusal (NoteError) whose `reason` says which kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
