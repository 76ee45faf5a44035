"""What the forwarder moves: signed checkpoints, and positions in the log and its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
