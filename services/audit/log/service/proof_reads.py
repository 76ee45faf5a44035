"""Aggregated audit of inclusion proofs. A verifier may ask for thousands of proofs a second;
one record each would make the log mostly about itself. So each caller's proofs are gathered
for WINDOW_S from the first one and logged as one "audit.proof.inclusion" event:

    payload {"count": n, "seqs": [...], "tree_sizes": [...], "trace_ids": [...]}

seqs are the first MAX_LISTED proved (in order), tree_sizes and trace_ids the first MAX_LISTED
distinct ones; count is always exact. The target is "record/<seq>" for a single proof and
"log/audit" otherwise; the event's own trace id and time are the window's first proof's.
The event is enqueued when the window closes and not waited for, so a crash or stop loses at
most the open windows (WINDOW_S) plus the sequencer's queue and commit in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.audit.log.domain.records import Actor

WINDOW_S = 1.0
MAX_LISTED = 100


@dataclass
class Window:
    started: datetime
    count: int = 0
    seqs: list[int] = field(default_factory=list)
    tree_sizes: list[int] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)

    def add(self, seq: int, tree_size: int, trace_id: str) -> None:
        self.count += 1
        if len(self.seqs) < MAX_LISTED:
            self.seqs.append(seq)
        _add_distinct(self.tree_sizes, tree_size)
        if trace_id:
            _add_distinct(self.trace_ids, trace_id)

    @property
    def target(self) -> str:
        return f"record/{self.seqs[0]}" if self.count == 1 else "log/audit"

    @property
    def payload(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "seqs": self.seqs,
            "tree_sizes": self.tree_sizes,
            "trace_ids": self.trace_ids,
        }


# Called when a window closes: (caller, the closed window).
Flush = Callable[[Actor, Window], None]


class ProofReads:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window_s = window_s
        self._open: dict[Actor, Window] = {}

    def note(self, caller: Actor, seq: int, tree_size: int, trace_id: str, flush: Flush) -> None:
        window = self._open.get(caller)
        if window is None:
            window = self._open[caller] = Window(datetime.now(UTC))
            asyncio.get_running_loop().call_later(self._window_s, self._close, caller, flush)
        window.add(seq, tree_size, trace_id)

    def _close(self, caller: Actor, flush: Flush) -> None:
        flush(caller, self._open.pop(caller))


def _add_distinct(values: list[Any], value: Any) -> None:
    if len(values) < MAX_LISTED and value not in values:
        values.append(value)
