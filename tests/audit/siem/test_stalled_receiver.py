"""A syslog receiver that accepts connections and then never reads: the forwarder's writes pile
up in socket buffers until drain() times out. Over TCP nothing tells what the receiver got, so
a link that failed this way must confirm nothing, however long ago its earlier batches went."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from runtime.db import Database
from tests.audit.factories import events
from tests.audit.siem.support import (
    append,
    audit_log,
    cursor_of,
    destination,
    eventually,
    forwarding,
    start_at_head,
)

# ~5 MB of messages: far more than the receiver's small buffer and our send buffer take
# (under 3 MB here), so some batch waits in drain() until timeout_s.
RECORDS, TARGET_CHARS = 2_000, 2_000


@contextmanager
def stalled_receiver() -> Iterator[int]:
    listener = socket.socket()
    # Set before listen so accepted connections inherit it: the stall shows after little data.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return  # the listener was closed

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(5)
        for connection in accepted:
            connection.close()


async def test_a_receiver_that_stops_reading_gets_nothing_confirmed_over_tcp(
    live_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Earlier batches were sent longer than confirm_after_s before the failing drain() gave up.
    options = {"confirm_after_s": 1.0, "timeout_s": 3.0, "batch_size": 100}
    with stalled_receiver() as port:
        target = destination("tcp", host="127.0.0.1", port=port, **options)
        start = await start_at_head(live_db, target.name)
        async with audit_log(live_db, every_records=10_000) as log:
            for first in range(0, RECORDS, 1_000):
                await append(log, events(1_000, target=f"desk/{first}/" + "x" * TARGET_CHARS))
        caplog.set_level(logging.WARNING, logger="services.audit.siem.workers.forwarder")
        async with forwarding(live_db, target):

            async def failed() -> bool:
                said = (record.getMessage() for record in caplog.records)
                return any(message.startswith(f"siem {target.name}: ") for message in said)

            await eventually(failed, "the forwarder gives up on the stalled receiver")
            assert await cursor_of(live_db, target.name) == start
