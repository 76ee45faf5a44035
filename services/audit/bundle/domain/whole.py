"""A bundle of the whole log [0, N): every record goes through the live service's ChainVerifier,
which rebuilds the Merkle tree and compares its root with the signed checkpoint's."""

from __future__ import annotations

from pathlib import Path

from runtime.progress import Progress
from services.audit.bundle.domain.diagnose import explain
from services.audit.bundle.domain.layout import RECORDS, BundleFailure
from services.audit.bundle.domain.records import read_lines
from services.audit.bundle.domain.signed import Signed
from services.audit.log import ChainVerifier, SignedRoot, Trust, Verdict


def verify_whole(folder: Path, signed: Signed, progress: Progress) -> int:
    """The number of records verified; raises BundleFailure naming the first bad one."""
    size = signed.checkpoint.size
    root = SignedRoot(signed.checkpoint.root.hex(), signed.note, (signed.verifier,))
    verifier = ChainVerifier(Trust(signed.checkpoint.origin, {size: root}))
    for line in read_lines(folder):
        if verifier.checked == size and line.record.seq >= size:
            beyond = f"{RECORDS} goes on past the checkpoint's tree size {size}"
            raise BundleFailure(beyond, line.record.seq)
        if line.redacted:
            verifier.allow_redacted([line.record.seq])
        if not verifier.feed([line.record]):
            break
        progress.advance()
    verdict = verifier.finish()
    if not verdict.ok:
        raise explain(folder, _failure(verdict))
    return verdict.checked


def _failure(verdict: Verdict) -> BundleFailure:
    return BundleFailure(verdict.reason, verdict.first_bad_seq)
