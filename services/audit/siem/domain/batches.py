"""What the forwarder moves: records and signed checkpoints in batches, and positions in the log
and its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.audit.log import Record


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    key_id: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class Position:
    """The last record seq and the last checkpoint tree size covered (-1 and 0: nothing yet)."""

    seq: int = -1
    checkpoint_size: int = 0


START = Position()


@dataclass(frozen=True)
class Batch:
    after: Position
    head_size: int
    records: list[Record] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def end(self) -> Position:
        seq = self.records[-1].seq if self.records else self.after.seq
        size = self.checkpoints[-1].tree_size if self.checkpoints else self.after.checkpoint_size
        return Position(seq, size)

    def marks(self) -> list[Position]:
        """The position each message reaches once delivered with all before it: the records
        in order, then the checkpoints they complete."""
        size, seq = self.after.checkpoint_size, self.end.seq
        records = [Position(record.seq, size) for record in self.records]
        return records + [Position(seq, signed.tree_size) for signed in self.checkpoints]

    def __bool__(self) -> bool:
        return bool(self.records or self.checkpoints)
