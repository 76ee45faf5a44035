"""What a watcher of the log is sent (AuditService.WatchRecords), and what waits for one that
reads slowly: the matching records in seq order, at most `limit` of them. Past that they give
way to one RESYNC, whose through_seq says up to where records may be missing: whatever a reader
does, what waits for it stays bounded, and the tail that fills it never waits for it."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from services.audit.log.domain.records import Record


@dataclass(frozen=True)
class Interest:
    """Which records a watcher wants: those whose target and action start with these."""

    target_prefix: str = ""
    action_prefix: str = ""

    def matches(self, record: Record) -> bool:
        event = record.event
        return event.target.startswith(self.target_prefix) and event.action.startswith(
            self.action_prefix
        )

    @property
    def everything(self) -> bool:
        return not (self.target_prefix or self.action_prefix)


class Kind(enum.Enum):
    STARTED = "started"  # the first message, unless a RESYNC is: nothing after it is missed
    RECORD = "record"
    RESYNC = "resync"  # matching records up to through_seq may be missing, never after it
    HEARTBEAT = "heartbeat"  # nothing to send for a while; all up to through_seq was sent


@dataclass(frozen=True)
class Notice:
    kind: Kind
    # Every matching record with seq <= through_seq was sent by then, or (RESYNC) never will be.
    through_seq: int
    record: Record | None = None


@dataclass(frozen=True)
class WatchSettings:
    max_subscribers: int = 1000  # streams per process; past it RESOURCE_EXHAUSTED
    backlog: int = 1000  # matching records that may wait for one slow reader
    heartbeat_s: float = 10.0  # a HEARTBEAT after this long without another message
    poll_s: float = 0.25  # how often the log's head is read for other replicas' commits
    replay: int = 100_000  # how far behind the log's end a stream may start (in records)


class Backlog:
    """What waits for one reader, oldest first, and how far the log was offered to it."""

    def __init__(self, limit: int, position: int) -> None:
        self._limit = limit
        self._waiting: deque[Record] = deque()
        self._missing = False  # a RESYNC is due before anything else
        self.position = position  # every matching record up to it waits, was sent, or is missing

    def offer(self, records: list[Record], through: int, interest: Interest) -> bool:
        """The tail read the log up to `through`: the matching records among these (those
        after position) wait. Whether anything new is there to take."""
        before = len(self)
        for record in records:
            if record.seq > self.position and interest.matches(record):
                self._add(record)
        self.position = max(self.position, through)
        return len(self) > before or self._missing

    def _add(self, record: Record) -> None:
        self.position = record.seq
        if self._missing:
            return  # the RESYNC to come covers it
        if len(self._waiting) >= self._limit:
            self.resync()
            return
        self._waiting.append(record)

    def resync(self, position: int | None = None) -> None:
        """Drops what waits; the next note is a RESYNC (from `position` on, when given)."""
        self._waiting.clear()
        self._missing = True
        if position is not None:
            self.position = position

    def take(self) -> Notice | None:
        """The next note to send, or None when nothing waits."""
        if self._missing:
            self._missing = False
            return Notice(Kind.RESYNC, self.position)
        if not self._waiting:
            return None
        record = self._waiting.popleft()
        return Notice(Kind.RECORD, record.seq, record)

    def __len__(self) -> int:
        return len(self._waiting) + self._missing
