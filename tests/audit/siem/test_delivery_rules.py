from __future__ import annotations

from runtime.backoff import Backoff
from services.audit.siem.domain.batches import Position
from services.audit.siem.domain.window import Window
from services.audit.siem.workers.forwarder import FIRST_RETRY_S


def test_a_send_settles_only_once_it_has_stood_long_enough() -> None:
    window = Window()
    window.sent(10.0, Position(4, 0))
    window.sent(11.0, Position(9, 5))

    assert window.settle(sent_before=9.9) is None
    assert window.settle(sent_before=10.5) == Position(4, 0)
    assert window.settle(sent_before=10.5) is None
    assert window.settle(sent_before=12.0) == Position(9, 5)


def test_a_forwarder_retries_from_a_tenth_of_a_second_doubling_to_its_cap() -> None:
    # The forwarder's schedule (runtime.backoff, full jitter); its ceilings at the draw's top.
    backoff = Backoff(FIRST_RETRY_S, cap_s=1.0)

    assert [backoff.wait(n, rand=lambda: 1.0) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.wait(3, rand=lambda: 0.0) == 0.0
