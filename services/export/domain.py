"""Export jobs and their rules: which requests are valid, and how a job moves through its states."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from runtime.errors import InvalidArgument

AUDIT_EXTRACT = "audit_extract"
KINDS = frozenset({AUDIT_EXTRACT})
TO_END = -1
DEFAULT_LIMIT, MAX_LIMIT = 50, 500


class ExportState(StrEnum):
    REQUESTED = "requested"
    GENERATED = "generated"
    FAILED = "failed"


class ExtractError(Exception):
    """The audit service sent something an extract must not contain (a gap, a stray record)."""


@dataclass(frozen=True)
class Digest:
    """What was written: the file's SHA-256, its size and how many records it holds."""

    sha256: str
    size_bytes: int
    record_count: int


@dataclass(frozen=True)
class Checkpoint:
    """A signed audit checkpoint: the log's first `tree_size` records have Merkle root
    `root_hash` (hex), vouched for by `note` (the signed note, exactly as signed)."""

    tree_size: int
    root_hash: str
    note: str


@dataclass(frozen=True)
class Export:
    id: str
    kind: str
    state: ExportState
    from_seq: int
    to_seq: int
    requested_by: str
    created_at: datetime
    updated_at: datetime
    file_name: str = ""
    sha256: str = ""
    size_bytes: int = 0
    record_count: int = 0
    failure_reason: str = ""
    checkpoint_size: int = 0
    checkpoint_root: str = ""
    checkpoint_file: str = ""

    def cut_at(self, checkpoint: Checkpoint | None) -> Export:
        """The export bounded by the latest signed checkpoint: records past it are not signed
        yet, so asking for them is refused. Without a checkpoint the range stays as asked."""
        if checkpoint is None:
            return self
        size = checkpoint.tree_size
        if max(self.from_seq, self.to_seq) >= size:
            raise InvalidArgument(
                f"records beyond the latest signed checkpoint (size {size}) are not yet covered;"
                f" try again shortly or ask for to_seq <= {size - 1}"
            )
        return replace(
            self,
            to_seq=size - 1 if self.to_seq == TO_END else self.to_seq,
            checkpoint_size=size,
            checkpoint_root=checkpoint.root_hash,
            checkpoint_file=f"{self.id}.checkpoint.txt",
        )

    def generated(self, digest: Digest) -> Export:
        return replace(
            self,
            state=ExportState.GENERATED,
            sha256=digest.sha256,
            size_bytes=digest.size_bytes,
            record_count=digest.record_count,
            updated_at=now(),
        )

    def failed(self, reason: str) -> Export:
        return replace(self, state=ExportState.FAILED, failure_reason=reason, updated_at=now())


def now() -> datetime:
    # The service's clock, not the database's: now() is fixed for a whole transaction.
    return datetime.now(UTC)


def request_export(kind: str, from_seq: int, to_seq: int, requested_by: str) -> Export:
    validate_range(kind, from_seq, to_seq)
    export_id, at = str(uuid.uuid4()), now()
    return Export(
        id=export_id,
        kind=kind,
        state=ExportState.REQUESTED,
        from_seq=from_seq,
        to_seq=to_seq,
        requested_by=requested_by,
        created_at=at,
        updated_at=at,
        file_name=f"{export_id}.jsonl",
    )


def validate_range(kind: str, from_seq: int, to_seq: int) -> None:
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    if from_seq < 0:
        raise InvalidArgument("from_seq must be 0 or more")
    if to_seq != TO_END and to_seq < from_seq:
        raise InvalidArgument("to_seq must be -1 (to the end) or at least from_seq")


def check_complete(export: Export, record_count: int) -> None:
    """A checkpoint vouches that every record up to to_seq exists: a short stream is broken."""
    expected = export.to_seq - export.from_seq + 1
    if export.checkpoint_size and record_count != expected:
        raise ExtractError(f"audit service sent {record_count} records where {expected} exist")


def check_next_seq(seq: int, expected: int, to_seq: int) -> None:
    """The log is gapless, so an extract is too: a hole or a record past the range means the
    audit service (or something between) is broken, and the file must not be published."""
    if seq != expected:
        raise ExtractError(f"audit service sent seq {seq} where {expected} was expected")
    if to_seq != TO_END and seq > to_seq:
        raise ExtractError(f"audit service sent seq {seq}, past the requested to_seq {to_seq}")


def page_limit(limit: int) -> int:
    if limit < 0:
        raise InvalidArgument("limit must be 0 (the default of 50) or more")
    return min(limit or DEFAULT_LIMIT, MAX_LIMIT)


def parse_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidArgument(f"export id must be a UUID, not {text!r}") from None
