from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle

from services.audit.siem.backoff import Backoff
from services.audit.siem.model import Position
from services.audit.siem.window import Window


def test_a_send_settles_only_once_it_has_stood_long_enough() -> None:
    window = Window()
    window.sent(10.0, Position(4, 0))
    window.sent(11.0, Position(9, 5))

    assert window.settle(sent_before=9.9) is None
    assert window.settle(sent_before=10.5) == Position(4, 0)
    assert window.settle(sent_before=10.5) is None
    assert window.settle(sent_before=12.0) == Position(9, 5)


def test_backoff_waits_grow_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(1.0, base_s=0.1, rand=lambda: 1.0)

    ceilings = [backoff.next_delay() for _ in range(6)]

    assert ceilings == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_backoff_draws_anywhere_below_the_ceiling_and_starts_over_after_a_reset() -> None:
    draws: Iterator[float] = cycle([0.0, 0.5])
    backoff = Backoff(30.0, base_s=1.0, rand=lambda: next(draws))

    assert [backoff.next_delay() for _ in range(4)] == [0.0, 1.0, 0.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.0
    assert backoff.next_delay() == 1.0
