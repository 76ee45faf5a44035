"""When to cut a signed checkpoint, cutting it, and the checkpoint as stored. A checkpoint is due
once `every_records` records arrived since the last one, or `every_ms` passed with any new
record; a tree size is signed at most once and only by the key whose window covers it, so
rotation never re-signs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.audit.log.domain.checkpoints.format import Checkpoint
from services.audit.log.domain.keyring import Keyring


@dataclass(frozen=True)
class Cadence:
    every_records: int = 1000
    every_ms: int = 1000


@dataclass(frozen=True)
class LastCheckpoint:
    size: int
    at: datetime | None


@dataclass(frozen=True)
class Cut:
    tree_size: int
    root_hex: str
    key_id_hex: str
    note: str


class Checkpointer:
    def __init__(self, keyring: Keyring, origin: str, cadence: Cadence) -> None:
        self.keyring, self.origin, self.cadence = keyring, origin, cadence

    def due(self, last: LastCheckpoint, size: int, now: datetime) -> bool:
        if size <= last.size:
            return False
        if size - last.size >= self.cadence.every_records or last.at is None:
            return True
        return now - last.at >= timedelta(milliseconds=self.cadence.every_ms)

    def cut(self, size: int, root: bytes) -> Cut:
        note = self.keyring.sign(Checkpoint(self.origin, size, root))
        key_id = self.keyring.signer_for(size).key_id.hex()
        return Cut(size, root.hex(), key_id, note)


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hex: str
    key_id_hex: str
    note: str
    created_at: datetime
