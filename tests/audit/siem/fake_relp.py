"""A tiny RELP receiver for what rsyslog will not do on request: it answers `open` with the
offers it is given, then keeps every `syslog` frame it reads and answers each one with
`syslog_answer` (None: never answers at all). It counts the connections it accepted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from services.audit.siem.domain.relp import Decoder, Frame, encode

RSYSLOG_OFFERS = b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\n"


@dataclass
class FakeRelp:
    offers: bytes = RSYSLOG_OFFERS + b"commands=syslog"
    syslog_answer: bytes | None = None
    port: int = 0
    connections: int = 0
    messages: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        decoder = Decoder(max_data=1 << 20)
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                for frame in decoder.feed(data):
                    self._answer(frame, writer)
                await writer.drain()
        writer.close()

    def _answer(self, frame: Frame, writer: asyncio.StreamWriter) -> None:
        if frame.command == "open":
            writer.write(encode(Frame(frame.txnr, "rsp", b"200 OK\n" + self.offers)))
        elif frame.command == "syslog":
            self.messages.append(frame.data)
            if self.syslog_answer is not None:
                writer.write(encode(Frame(frame.txnr, "rsp", self.syslog_answer)))


@asynccontextmanager
async def fake_relp(
    offers: bytes = FakeRelp.offers, syslog_answer: bytes | None = None
) -> AsyncIterator[FakeRelp]:
    fake = FakeRelp(offers, syslog_answer)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        for writer in fake.writers:
            writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)
