"""Syslog over RELP (rsyslog's imrelp), plain or TLS: each message is a `syslog` frame and
counts as delivered only once the receiver answered it `200 OK`. Up to `window` frames are in
flight; the log position a message reaches is confirmed only when its frame and every frame
before it were acknowledged (domain/acks.py). A broken connection, a `serverclose`, an answer
other than 200 or no answer within `timeout_s` fail the link: the forwarder reconnects and
sends again from its cursor, so the receiver may see a record twice but never misses one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from runtime.egress import DEFAULT, EgressPolicy
from services.audit.siem.clients.streams import connect
from services.audit.siem.domain import relp
from services.audit.siem.domain.acks import Unacknowledged
from services.audit.siem.domain.batches import Position
from services.audit.siem.domain.relp import Decoder, Frame, encode
from services.audit.siem.settings import Destination

CLOSE_WAIT_S = 1.0  # how long a clean `close` may take before the socket is just closed
READ_CHUNK = 64 * 1024


class ReceiverGone(ConnectionError):
    pass


class Refused(ConnectionError):
    """The receiver answered with a code other than 200: what it said is in the message."""


def software() -> str:
    try:
        return f"tradeops,{version('tradeops')}"
    except PackageNotFoundError:
        return "tradeops,unknown"


class RelpLink:
    acknowledges = True

    def __init__(self, destination: Destination, egress: EgressPolicy = DEFAULT) -> None:
        self._destination, self._egress = destination, egress
        self._unacked = Unacknowledged(destination.window)
        self._decoder = Decoder()
        self._txnr = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._listening: asyncio.Task[None] | None = None
        self._failure: Exception | None = None
        self._progress = asyncio.Event()  # set at every answer and at failure
        self._closing: tuple[int, asyncio.Future[None]] | None = None  # our `close`, once sent

    async def open(self) -> None:
        d = self._destination
        self._reader, self._writer = await connect(d, self._egress)
        txnr = self._write(relp.OPEN, relp.offers(software()))
        frames = await asyncio.wait_for(self._first_frames(), d.timeout_s)
        if frames[0].txnr != txnr:
            raise relp.ProtocolError(f"frame {frames[0].txnr} came first, not the answer to open")
        answer = relp.response(frames[0])
        if answer.code != relp.OK:
            said = f"{answer.code} {answer.text}".strip()
            raise Refused(f"{d.name}: the receiver refused the RELP session: {said}")
        offered = relp.parse_offers(answer.body)
        for problem in relp.offer_problems(offered):
            raise Refused(f"{d.name}: the receiver cannot take syslog over RELP: {problem}")
        for frame in frames[1:]:
            self._dispatch(frame)
        self._listening = asyncio.create_task(self._listen())

    async def send(self, messages: Sequence[bytes], marks: Sequence[Position]) -> None:
        for message, mark in zip(messages, marks, strict=True):
            await self._room()
            txnr = self._write(relp.SYSLOG, message)
            self._unacked.sent(txnr, time.monotonic(), mark)
        # drain() waits while the receiver is slow: pressure becomes lag, never a drop.
        await asyncio.wait_for(self._connected().drain(), self._destination.timeout_s)

    def confirmed(self) -> Position | None:
        settled = self._unacked.settle()
        if settled is None:
            self._check()
        return settled

    async def close(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None and not listening.done() and self._failure is None:
            # A clean end, so that the receiver does not log a broken session.
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(self._close_session(), CLOSE_WAIT_S)
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listening
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            # The peer may be gone or stuck; our side of the socket is closed either way.
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), CLOSE_WAIT_S)

    # --- the conversation ---

    def _write(self, command: str, data: bytes) -> int:
        self._txnr = relp.next_txnr(self._txnr)
        self._connected().write(encode(Frame(self._txnr, command, data)))
        return self._txnr

    async def _first_frames(self) -> list[Frame]:
        frames: list[Frame] = []
        while not frames:
            data = await self._stream().read(READ_CHUNK)
            if not data:
                raise ReceiverGone("the receiver closed the connection before answering open")
            frames = self._decoder.feed(data)
        return frames

    async def _listen(self) -> None:
        try:
            while data := await self._stream().read(READ_CHUNK):
                for frame in self._decoder.feed(data):
                    self._dispatch(frame)
            raise ReceiverGone("the receiver closed the connection")
        except asyncio.CancelledError:
            raise
        except (ReceiverGone, Refused, relp.ProtocolError) as exc:
            self._fail(exc)
        except Exception as exc:
            self._fail(ReceiverGone(f"the connection failed: {exc!r}"))

    def _dispatch(self, frame: Frame) -> None:
        if frame.command == relp.SERVERCLOSE:
            raise ReceiverGone("the receiver ended the session (serverclose)")
        answer = relp.response(frame)
        if self._closing is not None and frame.txnr == self._closing[0]:
            self._closed()
            return
        if answer.code != relp.OK:
            d = self._destination
            said = f"{answer.code} {answer.text}".strip()
            raise Refused(f"{d.name}: the receiver refused frame {frame.txnr}: {said}")
        try:
            self._unacked.acknowledged(frame.txnr)
        except KeyError as exc:
            raise relp.ProtocolError(str(exc.args[0])) from None
        self._progress.set()

    async def _room(self) -> None:
        while True:
            self._check()
            if not self._unacked.full():
                return
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), self._until_overdue())

    def _until_overdue(self) -> float:
        oldest = self._unacked.oldest()
        if oldest is None:
            return self._destination.timeout_s
        return max(oldest[1] + self._destination.timeout_s - time.monotonic(), 0.0)

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._listening is None:
            raise ReceiverGone("not connected")
        oldest = self._unacked.oldest()
        if oldest is not None and self._until_overdue() <= 0:
            timeout = self._destination.timeout_s
            silent = ReceiverGone(f"no acknowledgement of frame {oldest[0]} within {timeout} s")
            self._fail(silent)
            raise silent

    def _fail(self, failure: Exception) -> None:
        if self._failure is None:
            self._failure = failure
        self._progress.set()
        self._closed()  # a `close` waits no longer on a session that ended anyway

    def _closed(self) -> None:
        if self._closing is not None and not self._closing[1].done():
            self._closing[1].set_result(None)

    async def _close_session(self) -> None:
        answered = asyncio.get_running_loop().create_future()
        self._closing = (self._write(relp.CLOSE, b""), answered)
        await self._connected().drain()
        await answered

    def _stream(self) -> asyncio.StreamReader:
        if self._reader is None:
            raise ReceiverGone("not connected")
        return self._reader

    def _connected(self) -> asyncio.StreamWriter:
        if self._writer is None:
            raise ReceiverGone("not connected")
        return self._writer
