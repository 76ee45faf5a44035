"""Offline verification of a bundle: no network, no database, only the bundle's own files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime.progress import Progress
from services.audit.bundle.domain.layout import (
    CHECKPOINT,
    INFO,
    KEYS,
    PROOFS,
    RECORDS,
    BundleFailure,
    BundleInfo,
    read_info,
    require,
)
from services.audit.bundle.domain.ranged import verify_range
from services.audit.bundle.domain.signed import Signed, open_signed
from services.audit.bundle.domain.whole import verify_whole

ProgressFactory = Callable[[int], Progress]


@dataclass(frozen=True)
class Outcome:
    records: int
    signed: Signed

    def report(self) -> str:
        checkpoint, key = self.signed.checkpoint, self.signed.key
        return (
            f"OK: {self.records} records, tree size {checkpoint.size}, "
            f"root {checkpoint.root.hex()}, signed by {key.name} {key.key_id_hex}"
        )


def verify_bundle(folder: Path, progress: ProgressFactory, trusted: Sequence[str] = ()) -> Outcome:
    """Raises UsageError when the bundle cannot be read, BundleFailure when it does not verify.
    With `trusted` verifier keys, the signing key must be one of them: keys.json travels with
    the bundle, so whoever rewrote the records could have replaced it too."""
    require(folder, INFO, KEYS, CHECKPOINT, RECORDS)
    info = read_info(folder)
    if not info.whole:
        require(folder, PROOFS)
    signed = open_signed(folder, trusted)
    _check_agrees(info, signed)
    bar = progress(info.to_seq - info.from_seq + 1)
    try:
        if info.whole:
            count = verify_whole(folder, signed, bar)
        else:
            count = verify_range(folder, info, signed, bar)
    finally:
        bar.close()
    if count != info.records:
        raise BundleFailure(f"{INFO} counts {info.records} records but the bundle holds {count}")
    return Outcome(count, signed)


def _check_agrees(info: BundleInfo, signed: Signed) -> None:
    checkpoint = signed.checkpoint
    if checkpoint.size != info.tree_size:
        raise BundleFailure(
            f"{CHECKPOINT} signs tree size {checkpoint.size} but {INFO} says {info.tree_size}"
        )
    if checkpoint.origin != info.origin:
        raise BundleFailure(
            f"{INFO} names origin {info.origin!r}, the checkpoint {checkpoint.origin!r}"
        )
