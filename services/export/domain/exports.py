"""Export jobs and how they move through their states; request rules live in `requests.py`
beside this module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from runtime.errors import InvalidArgument

TO_END = -1
# The fixed names inside an export's directory.
CHECKPOINT_FILE, PROOFS_FILE = "checkpoint.txt", "proofs.json"
MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS = (
    "manifest.json",
    "manifest.json.sig",
    "key.pub.pem",
    "SHA256SUMS",
)


class ExportState(StrEnum):
    REQUESTED = "requested"
    GENERATING = "generating"
    SIGNED = "signed"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    VERIFIED = "verified"
    FAILED = "failed"


# States in which a generation is (or should be) running: nothing is sealed yet.
UNFINISHED = frozenset({ExportState.REQUESTED, ExportState.GENERATING})
# States in which the export's directory is complete and signed.
SEALED = frozenset({ExportState.SIGNED, ExportState.DELIVERING, ExportState.DELIVERED})
SEALED_OR_VERIFIED = SEALED | {ExportState.VERIFIED}


class ExtractError(Exception):
    """A peer sent something an export must not contain (a gap, a stray record)."""


@dataclass(frozen=True)
class ExportFile:
    """One file of an export as its manifest lists it."""

    name: str
    size_bytes: int
    sha256: str
    record_count: int = 0


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
    requested_by: str
    created_at: datetime
    updated_at: datetime
    format: str = "jsonl"
    from_seq: int = 0
    to_seq: int = TO_END
    since: datetime | None = None
    until: datetime | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    destination: str = ""
    client_key: str = ""
    file_name: str = ""
    sha256: str = ""
    size_bytes: int = 0
    record_count: int = 0
    files: tuple[ExportFile, ...] = ()
    failure_reason: str = ""
    checkpoint_size: int = 0
    checkpoint_root: str = ""
    checkpoint_file: str = ""
    manifest_sha256: str = ""
    prev_manifest_sha256: str = ""
    key_id: str = ""
    delivered_at: datetime | None = None
    verified_at: datetime | None = None
    location: str = ""

    @property
    def directory(self) -> str:
        """The export's directory, relative to the service's export directory."""
        return self.id

    @property
    def staging(self) -> str:
        """Where the files are written until sealing publishes them as `directory`."""
        return f".{self.id}.partial"

    @property
    def by_time(self) -> bool:
        return self.since is not None or self.until is not None

    def cut_at(self, checkpoint: Checkpoint | None) -> Export:
        """An audit extract bounded by the latest signed checkpoint: records past it are not
        signed yet, so asking for them is refused. Without a checkpoint the range stays."""
        if checkpoint is None:
            return self
        size = checkpoint.tree_size
        if not self.by_time and max(self.from_seq, self.to_seq) >= size:
            raise InvalidArgument(
                f"records beyond the latest signed checkpoint (size {size}) are not yet covered;"
                f" try again shortly or ask for to_seq <= {size - 1}"
            )
        return replace(
            self,
            to_seq=size - 1 if self.to_seq == TO_END else self.to_seq,
            checkpoint_size=size,
            checkpoint_root=checkpoint.root_hash,
            checkpoint_file=CHECKPOINT_FILE,
        )

    def generating(self) -> Export:
        return replace(self, state=ExportState.GENERATING, updated_at=now())

    def generated(self, main: ExportFile, files: tuple[ExportFile, ...]) -> Export:
        """The data is written (still GENERATING until the manifest is signed)."""
        return replace(
            self,
            file_name=main.name,
            sha256=main.sha256,
            size_bytes=main.size_bytes,
            record_count=main.record_count,
            files=files,
            updated_at=now(),
        )

    def signed(self, manifest_sha256: str, prev_manifest_sha256: str, key_id: str) -> Export:
        return replace(
            self,
            state=ExportState.SIGNED,
            manifest_sha256=manifest_sha256,
            prev_manifest_sha256=prev_manifest_sha256,
            key_id=key_id,
            updated_at=now(),
        )

    def delivering(self) -> Export:
        return replace(self, state=ExportState.DELIVERING, updated_at=now())

    def delivered(self, location: str) -> Export:
        at = now()
        return replace(
            self, state=ExportState.DELIVERED, location=location, delivered_at=at, updated_at=at
        )

    def verified(self) -> Export:
        at = now()
        return replace(self, state=ExportState.VERIFIED, verified_at=at, updated_at=at)

    def failed(self, reason: str) -> Export:
        return replace(self, state=ExportState.FAILED, failure_reason=reason, updated_at=now())


def now() -> datetime:
    # The service's clock, not the database's: now() is fixed for a whole transaction.
    return datetime.now(UTC)
