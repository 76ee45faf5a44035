"""Log verification, shared by the live service and the offline bundle verifier: re-derive every
record's payload_sha256, prev_hash link and leaf hash, check seqs are gapless from 0, rebuild the
Merkle tree and compare its root with every signed checkpoint (whose signature must verify with
the key whose window covers its size), and name the first record that does not match.
ChainVerifier keeps O(log n) state, so a caller can feed it the log one page at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.audit.log.domain.checkpoints.format import open_checkpoint
from services.audit.log.domain.merkle.hashing import TreeBuilder
from services.audit.log.domain.note import NoteError, Verifier
from services.audit.log.domain.records import GENESIS, Head, Record, payload_sha256, record_hash


@dataclass(frozen=True)
class Verdict:
    ok: bool
    # Records examined, the failing one included.
    checked: int
    first_bad_seq: int = -1
    reason: str = ""
    # Largest signed checkpoint whose root the records reproduce (0: none checked).
    checkpoint_size: int = 0

    def as_payload(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "checkpoint_size": self.checkpoint_size,
        }


@dataclass(frozen=True)
class SignedRoot:
    """A stored checkpoint: its root (hex), its signed note, and keys that may have signed it."""

    root_hex: str
    note: str
    verifiers: tuple[Verifier, ...]


@dataclass(frozen=True)
class Trust:
    origin: str
    checkpoints: Mapping[int, SignedRoot]


class ChainVerifier:
    """Feed records in seq order; `finish` gives the verdict. Stops at the first failure."""

    def __init__(self, trust: Trust | None = None) -> None:
        self.checked, self._next, self._prev = 0, 0, GENESIS
        self.failure: Verdict | None = None
        self._trust, self._tree, self._good = trust, TreeBuilder(), 0
        self._redacted: set[int] = set()

    def allow_redacted(self, seqs: Iterable[int]) -> None:
        """Seqs whose payload text was removed by a recorded redaction."""
        self._redacted.update(seqs)

    def feed(self, records: Iterable[Record]) -> bool:
        """Checks a page; False once the log has failed (later pages need not be read)."""
        for record in records:
            if self.failure is not None:
                break
            self.checked += 1
            problem = self._problem(record) or self._advance(record)
            if problem is not None:
                self.failure = Verdict(False, self.checked, *problem, checkpoint_size=self._good)
        return self.failure is None

    def finish(self, head: Head | None = None) -> Verdict:
        """The verdict; with `head`, also checks the log reaches the size and hash it records."""
        if self.failure is not None:
            return self.failure
        problem = self._missing_checkpoints() or (self._head_problem(head) if head else None)
        if problem is not None:
            return Verdict(False, self.checked, *problem, checkpoint_size=self._good)
        return Verdict(True, self.checked, checkpoint_size=self._good)

    def _problem(self, record: Record) -> tuple[int, str] | None:
        seq = record.seq
        if seq != self._next:
            if seq < self._next:
                return seq, f"seq {seq} appears again or out of order after seq {self._next - 1}"
            return self._next, f"seq {self._next} is missing (the next record has seq {seq})"
        payload = record.event.payload_json
        if payload is None and seq not in self._redacted:
            return seq, "the stored payload is missing"
        if payload is not None and payload_sha256(payload) != record.payload_sha256:
            return seq, "payload_sha256 does not match the stored payload"
        if record.prev_hash != self._prev:
            return seq, "prev_hash does not match the previous record's leaf hash"
        if (
            record_hash(seq, record.event, record.payload_sha256, record.prev_hash)
            != record.leaf_hash
        ):
            return seq, "leaf_hash does not match the record's canonical encoding"
        return None

    def _advance(self, record: Record) -> tuple[int, str] | None:
        self._next, self._prev = record.seq + 1, record.leaf_hash
        self._tree.add(bytes.fromhex(record.leaf_hash))
        signed = self._trust.checkpoints.get(self._next) if self._trust else None
        if signed is None:
            return None
        problem = self._check_checkpoint(self._next, signed)
        if problem is None:
            self._good = self._next
            return None
        return self._good, f"checkpoint at tree size {self._next}: {problem}"

    def _check_checkpoint(self, size: int, signed: SignedRoot) -> str | None:
        assert self._trust is not None
        root = self._tree.root().hex()
        try:
            body = open_checkpoint(signed.note, signed.verifiers, self._trust.origin)
        except NoteError as exc:
            return f"the signed note does not verify ({exc})"
        if body.size != size or body.root.hex() != signed.root_hex:
            return "the signed note does not match the stored checkpoint"
        if root != signed.root_hex:
            return f"the records in [{self._good}, {size}) do not reproduce the signed root"
        return None

    def _missing_checkpoints(self) -> tuple[int, str] | None:
        beyond = [
            size for size in (self._trust.checkpoints if self._trust else {}) if size > self._next
        ]
        if beyond:
            return (
                self._next,
                f"a checkpoint signs tree size {max(beyond)} but the log ends at {self._next}",
            )
        return None

    def _head_problem(self, head: Head) -> tuple[int, str] | None:
        if head.size != self._next:
            reason = f"the log ends before seq {self._next} but its head records size {head.size}"
            return self._next, reason
        if head.last_hash != self._prev:
            return self._next - 1, "the head's last_hash differs from the last record's leaf hash"
        return None


def verify(
    records: Iterable[Record], head: Head | None = None, trust: Trust | None = None
) -> Verdict:
    """Verifies a whole log held in memory (tests, small bundles)."""
    verifier = ChainVerifier(trust)
    verifier.feed(records)
    return verifier.finish(head)
