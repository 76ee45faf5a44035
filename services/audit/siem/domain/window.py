"""What a plain TCP/TLS send can be trusted with: nothing at first. A send settles only after it
has stood `confirm_after_s` on a connection still healthy when checked; anything newer is
replayed after a reconnect (a send to a receiver that just died returns success and is lost)."""

from __future__ import annotations

from collections import deque

from services.audit.siem.domain.batches import Position


class Window:
    def __init__(self) -> None:
        self._marks: deque[tuple[float, Position]] = deque()

    def sent(self, at: float, upto: Position) -> None:
        self._marks.append((at, upto))

    def settle(self, sent_before: float) -> Position | None:
        """The furthest position sent at or before `sent_before`, forgotten once returned.
        Only call it after checking that the connection is still healthy."""
        settled = None
        while self._marks and self._marks[0][0] <= sent_before:
            settled = self._marks.popleft()[1]
        return settled
