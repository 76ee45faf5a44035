"""Chain verification: re-derive every record's payload_sha256, prev_hash link and hash, check
seqs are gapless from 0, and name the first record that does not match. ChainVerifier keeps
constant state, so a caller can feed it the log one page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.audit.domain import GENESIS, Head, Record, payload_sha256, record_hash


@dataclass(frozen=True)
class Verdict:
    ok: bool
    # Records examined, the failing one included.
    checked: int
    first_bad_seq: int = -1
    reason: str = ""

    def as_payload(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


class ChainVerifier:
    """Feed records in seq order; `finish` gives the verdict. Stops at the first failure."""

    def __init__(self) -> None:
        self.checked, self._next, self._prev = 0, 0, GENESIS
        self.failure: Verdict | None = None

    def feed(self, records: Iterable[Record]) -> bool:
        """Checks a page; False once the chain has failed (later pages need not be read)."""
        for record in records:
            if self.failure is not None:
                break
            self.checked += 1
            problem = self._problem(record)
            if problem is not None:
                self.failure = Verdict(False, self.checked, *problem)
            else:
                self._next, self._prev = record.seq + 1, record.leaf_hash
        return self.failure is None

    def finish(self, head: Head | None = None) -> Verdict:
        """The verdict; with `head`, also checks the log reaches the size and hash it records."""
        if self.failure is not None:
            return self.failure
        if head is not None and head.size != self._next:
            reason = f"the log ends before seq {self._next} but its head records size {head.size}"
            return Verdict(False, self.checked, self._next, reason)
        if head is not None and head.last_hash != self._prev:
            reason = "the head's last_hash differs from the last record's hash"
            return Verdict(False, self.checked, self._next - 1, reason)
        return Verdict(True, self.checked)

    def _problem(self, record: Record) -> tuple[int, str] | None:
        seq = record.seq
        if seq != self._next:
            return self._next, f"seq {self._next} is missing (the next record has seq {seq})"
        payload = record.event.payload_json
        if payload is None:
            return seq, "the stored payload is missing"
        if payload_sha256(payload) != record.payload_sha256:
            return seq, "payload_sha256 does not match the stored payload"
        if record.prev_hash != self._prev:
            return seq, "prev_hash does not match the previous record's hash"
        if (
            record_hash(seq, record.event, record.payload_sha256, record.prev_hash)
            != record.leaf_hash
        ):
            return seq, "leaf_hash does not match the record's canonical encoding"
        return None


def verify(records: Iterable[Record], head: Head | None = None) -> Verdict:
    """Verifies a whole chain held in memory (tests, offline bundles)."""
    verifier = ChainVerifier()
    verifier.feed(records)
    return verifier.finish(head)
