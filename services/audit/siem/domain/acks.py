"""What an acknowledging receiver (RELP) has confirmed: frames in flight in the order sent, each
maybe carrying the log position its send reached, and the furthest position whose frames, and
every frame before them, were all acknowledged. An acknowledgement out of order waits for the
ones before it: the cursor only ever moves over a prefix the receiver took in full."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from services.audit.siem.domain.batches import Position


@dataclass
class _InFlight:
    txnr: int
    position: Position | None
    sent_at: float
    acked: bool = False


class Unacknowledged:
    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("the window must hold at least one frame")
        self.window = window
        self._frames: deque[_InFlight] = deque()
        self._by_txnr: dict[int, _InFlight] = {}
        self._settled: Position | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def full(self) -> bool:
        return len(self._frames) >= self.window

    def sent(self, txnr: int, at: float, position: Position | None = None) -> None:
        if txnr in self._by_txnr:
            raise ValueError(f"frame {txnr} is already in flight")
        frame = _InFlight(txnr, position, at)
        self._frames.append(frame)
        self._by_txnr[txnr] = frame

    def acknowledged(self, txnr: int) -> None:
        frame = self._by_txnr.pop(txnr, None)
        if frame is None:
            raise KeyError(f"an acknowledgement for frame {txnr}, which is not in flight")
        frame.acked = True
        while self._frames and self._frames[0].acked:
            done = self._frames.popleft()
            if done.position is not None:
                self._settled = done.position

    def settle(self) -> Position | None:
        """The furthest position acknowledged in full since the last call, or None."""
        settled, self._settled = self._settled, None
        return settled

    def oldest(self) -> tuple[int, float] | None:
        """The TXNR and send time of the oldest frame still waiting for its answer."""
        return (self._frames[0].txnr, self._frames[0].sent_at) if self._frames else None
