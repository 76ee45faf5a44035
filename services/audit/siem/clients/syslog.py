"""Syslog over TCP or TLS with RFC 6587 octet-counted framing ("LEN SP MSG"), on a connection
to an address the egress policy checked (clients/streams.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from runtime.egress import DEFAULT, EgressPolicy
from services.audit.siem.clients.streams import connect
from services.audit.siem.domain.batches import Position
from services.audit.siem.domain.window import Window
from services.audit.siem.settings import Destination


class ReceiverGone(ConnectionError):
    pass


def frame(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


class StreamLink:
    """One connection. Confirmation is by time on a healthy connection (see domain/window.py);
    any failure raises, and the forwarder then reconnects and replays from the cursor: what
    this connection sent, however long ago, may still have sat in a send buffer."""

    acknowledges = False

    def __init__(self, destination: Destination, egress: EgressPolicy = DEFAULT) -> None:
        self._destination, self._egress = destination, egress
        self._window = Window()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await connect(self._destination, self._egress)

    async def send(self, messages: Sequence[bytes], marks: Sequence[Position]) -> None:
        writer = self._connected()
        writer.write(b"".join(frame(message) for message in messages))
        # drain() waits while the receiver is slow: pressure becomes lag, never a drop.
        await asyncio.wait_for(writer.drain(), self._destination.timeout_s)
        self._window.sent(time.monotonic(), marks[-1])

    def confirmed(self) -> Position | None:
        self._check_healthy()
        return self._window.settle(time.monotonic() - self._destination.confirm_after_s)

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            # The peer may be gone or stuck; our side of the socket is closed either way.
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _check_healthy(self) -> None:
        # The event loop reads the socket all the time (a syslog receiver never sends), so
        # EOF, a reset or a closed transport show up here: the asyncio form of a
        # non-blocking peek.
        reader, writer = self._reader, self._connected()
        if writer.is_closing() or reader is None or reader.at_eof():
            raise ReceiverGone("the receiver closed the connection")
        failure = reader.exception()
        if failure is not None:
            raise ReceiverGone(f"the connection failed: {failure}")

    def _connected(self) -> asyncio.StreamWriter:
        if self._writer is None:
            raise ReceiverGone("not connected")
        return self._writer
