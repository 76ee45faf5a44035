"""checkpoint.txt, checked with the key in keys.json whose window covers its tree size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.audit.bundle.domain.layout import CHECKPOINT, KEYS, BundleFailure, read_keys
from services.audit.log import Checkpoint, NoteError, PublicKey, Reason, Verifier, open_checkpoint


@dataclass(frozen=True)
class Signed:
    checkpoint: Checkpoint
    note: str
    key: PublicKey
    verifier: Verifier


def open_signed(folder: Path, trusted: Sequence[str] = ()) -> Signed:
    origin, keys = read_keys(folder)
    note = (folder / CHECKPOINT).read_text(encoding="utf-8")
    key = _key_for(keys, _claimed_size(note))
    if trusted and key.vkey not in trusted:
        raise BundleFailure(
            f"{CHECKPOINT} must be signed by {key.name} {key.key_id_hex} per {KEYS}, "
            "which is not among the trusted keys"
        )
    verifier = _verifier(key)
    try:
        checkpoint = open_checkpoint(note, [verifier], origin)
    except NoteError as exc:
        raise BundleFailure(_refusal(exc, key)) from None
    return Signed(checkpoint, note, key, verifier)


def _claimed_size(note: str) -> int:
    """The size the (not yet verified) body claims: it only picks which key must have signed."""
    try:
        return Checkpoint.parse(note[: note.rfind("\n\n") + 1]).size
    except NoteError as exc:
        raise BundleFailure(f"{CHECKPOINT} is not a checkpoint: {exc}") from None


def _key_for(keys: list[PublicKey], size: int) -> PublicKey:
    covering = [key for key in keys if key.covers(size)]
    if len(covering) != 1:
        found = "no key" if not covering else f"{len(covering)} keys"
        raise BundleFailure(f"{KEYS} has {found} for tree size {size}; it needs exactly one")
    return covering[0]


def _verifier(key: PublicKey) -> Verifier:
    try:
        verifier = Verifier.parse(key.vkey)
    except NoteError as exc:
        raise BundleFailure(f"{KEYS}: key {key.name} {key.key_id_hex}: {exc}") from None
    if (verifier.name, verifier.key_id.hex()) != (key.name, key.key_id_hex):
        raise BundleFailure(f"{KEYS}: key {key.name} {key.key_id_hex} does not match its vkey")
    return verifier


def _refusal(exc: NoteError, key: PublicKey) -> str:
    if exc.reason is Reason.UNVERIFIED and exc.opened is not None:
        names = ", ".join(f"{s.name} {s.key_id.hex()}" for s in exc.opened.unverified)
        return (
            f"{CHECKPOINT} is signed only by unknown keys ({names}), "
            f"not by {key.name} {key.key_id_hex}"
        )
    if exc.reason is Reason.BAD_SIGNATURE:
        return (
            f"{CHECKPOINT}: the signature of {key.name} {key.key_id_hex} does not verify "
            "(the checkpoint was altered or the signature forged)"
        )
    return f"{CHECKPOINT} does not verify: {exc}"
