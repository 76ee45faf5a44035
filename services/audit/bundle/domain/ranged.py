"""A bundle of part of the log [A, B]: the chain links inside the range, every leaf hash, and
each record's inclusion proof against the signed root of the tree of size N."""

from __future__ import annotations

from pathlib import Path

from runtime.progress import Progress
from services.audit.bundle.domain.diagnose import explain
from services.audit.bundle.domain.layout import PROOFS, RECORDS, BundleFailure, BundleInfo
from services.audit.bundle.domain.proof_lines import ProofLine, read_proofs
from services.audit.bundle.domain.records import Line, read_lines
from services.audit.bundle.domain.signed import Signed
from services.audit.log import ProofError, payload_sha256, record_hash, verify_inclusion


def verify_range(folder: Path, info: BundleInfo, signed: Signed, progress: Progress) -> int:
    """The number of records verified; raises BundleFailure naming the first bad one."""
    expected, prev = info.from_seq, ""
    proofs = read_proofs(folder)
    for line in read_lines(folder):
        if expected > info.to_seq and line.record.seq > info.to_seq:
            raise BundleFailure(f"{RECORDS} goes on past seq {info.to_seq}", line.record.seq)
        try:
            _check_record(line, expected, prev)
        except BundleFailure as failure:
            raise explain(folder, failure, info.from_seq) from None
        _check_proof(line, next(proofs, None), signed)
        expected, prev = expected + 1, line.record.leaf_hash
        progress.advance()
    if expected <= info.to_seq:
        reason = f"{RECORDS} ends before seq {expected}; the bundle holds up to seq {info.to_seq}"
        raise BundleFailure(reason, expected)
    return expected - info.from_seq


def _check_record(line: Line, expected: int, prev: str) -> None:
    record, seq = line.record, line.record.seq
    if seq != expected:
        if seq < expected:
            reason = f"seq {seq} appears again or out of order after seq {expected - 1}"
            raise BundleFailure(reason, seq)
        raise BundleFailure(f"seq {expected} is missing (the next record has seq {seq})", expected)
    payload = record.event.payload_json
    if payload is not None and payload_sha256(payload) != record.payload_sha256:
        raise BundleFailure("payload_sha256 does not match the stored payload", seq)
    # The first record's own link is covered by its leaf hash, which its proof covers.
    if prev and record.prev_hash != prev:
        raise BundleFailure("prev_hash does not match the previous record's leaf hash", seq)
    if record_hash(seq, record.event, record.payload_sha256, record.prev_hash) != record.leaf_hash:
        raise BundleFailure("leaf_hash does not match the record's canonical encoding", seq)


def _check_proof(line: Line, proof: ProofLine | None, signed: Signed) -> None:
    seq, size = line.record.seq, signed.checkpoint.size
    if proof is None or proof.seq != seq or proof.tree_size != size:
        raise BundleFailure(f"{PROOFS} has no proof of seq {seq} in the tree of size {size}", seq)
    leaf = bytes.fromhex(line.record.leaf_hash)
    try:
        verify_inclusion(seq, size, leaf, proof.hashes, signed.checkpoint.root)
    except ProofError as exc:
        raise BundleFailure(f"the inclusion proof does not verify: {exc}", seq) from None
