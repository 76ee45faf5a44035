from __future__ import annotations

import dataclasses

from runtime.backoff import Backoff
from services.audit.siem.domain.batches import Batch, Position
from services.audit.siem.domain.window import Window
from services.audit.siem.workers.forwarder import FIRST_RETRY_S
from tests.audit.siem.samples import CHECKPOINT, RECORD


def test_a_send_settles_only_once_it_has_stood_long_enough() -> None:
    window = Window()
    window.sent(10.0, Position(4, 0))
    window.sent(11.0, Position(9, 5))

    assert window.settle(sent_before=9.9) is None
    assert window.settle(sent_before=10.5) == Position(4, 0)
    assert window.settle(sent_before=10.5) is None
    assert window.settle(sent_before=12.0) == Position(9, 5)


def test_each_message_of_a_batch_marks_the_position_its_delivery_reaches() -> None:
    records = [dataclasses.replace(RECORD, seq=seq) for seq in (41, 42)]
    batch = Batch(Position(40, 32), 50, records, [CHECKPOINT])

    # A record's mark keeps the checkpoints where they were; a checkpoint goes after them all.
    assert batch.marks() == [Position(41, 32), Position(42, 32), Position(42, 43)]
    assert batch.marks()[-1] == batch.end


def test_a_forwarder_retries_from_a_tenth_of_a_second_doubling_to_its_cap() -> None:
    # The forwarder's schedule (runtime.backoff, full jitter); its ceilings at the draw's top.
    backoff = Backoff(FIRST_RETRY_S, cap_s=1.0)

    assert [backoff.wait(n, rand=lambda: 1.0) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.wait(3, rand=lambda: 0.0) == 0.0
