"""A WatchRecords stream as a test reads it: a task reads every message as it comes, so the test
waits for the one it expects, with a deadline, and sees how the stream ended."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress

import grpc

from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Notice = pb.RecordNotice
Metadata = Sequence[tuple[str, str]]
WAIT_S = 15.0  # generous: the machine may be busy; a pass takes milliseconds


class Watcher:
    def __init__(
        self, stub: pb_grpc.AuditServiceAsyncStub, metadata: Metadata, **asked: str | int
    ) -> None:
        request = pb.WatchRecordsRequest()  # from now on, unless asked after a seq
        for name, value in asked.items():
            setattr(request, name, value)
        self.call = stub.WatchRecords(request, metadata=metadata)
        self.seen: list[Notice] = []  # not consumed yet
        self.log: list[Notice] = []  # everything but heartbeats, consumed or not
        self.arrived: dict[int, float] = {}  # a record's seq: when it arrived (monotonic)
        self.details = ""  # the status details, once ended with an error
        self._arrived = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> grpc.StatusCode:
        try:
            async for message in self.call:
                async with self._arrived:
                    self._keep(message)
        except grpc.aio.AioRpcError as exc:
            self.details = exc.details() or ""
            return exc.code()
        finally:
            async with self._arrived:
                self._arrived.notify_all()
        return grpc.StatusCode.OK

    def _keep(self, message: Notice) -> None:
        self.seen.append(message)
        if message.type != Notice.TYPE_HEARTBEAT:
            self.log.append(message)
        if message.type == Notice.TYPE_RECORD:
            self.arrived[message.record.seq] = time.monotonic()
        self._arrived.notify_all()

    async def first(self, wanted: Callable[[Notice], bool], within: float = WAIT_S) -> Notice:
        """The first message so far or to come that `wanted` accepts; it and all before it are
        consumed."""
        deadline = time.monotonic() + within
        async with self._arrived:
            while True:
                for index, message in enumerate(self.seen):
                    if wanted(message):
                        del self.seen[: index + 1]
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self.task.done():
                    raise AssertionError(f"not seen; seen instead: {self.seen}")
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), left)

    async def started(self, within: float = WAIT_S) -> Notice:
        return await self.first(lambda m: m.type == Notice.TYPE_STARTED, within)

    async def resync(self, within: float = WAIT_S) -> Notice:
        return await self.first(lambda m: m.type == Notice.TYPE_RESYNC, within)

    async def record(self, seq: int, within: float = WAIT_S) -> Notice:
        return await self.first(lambda m: m.record.seq == seq and m.HasField("record"), within)

    def records(self) -> list[pb.AuditRecord]:
        """Every record so far, consumed or not."""
        return [m.record for m in self.log if m.type == Notice.TYPE_RECORD]

    async def ended(self, within: float = WAIT_S) -> grpc.StatusCode:
        return await asyncio.wait_for(asyncio.shield(self.task), within)


@asynccontextmanager
async def watching(
    stub: pb_grpc.AuditServiceAsyncStub, metadata: Metadata, **asked: str | int
) -> AsyncIterator[Watcher]:
    """A watcher, once its stream is open (its STARTED); cancelled at the end."""
    watcher = Watcher(stub, metadata, **asked)
    try:
        await watcher.started()
        yield watcher
    finally:
        watcher.call.cancel()
        await asyncio.gather(watcher.task, return_exceptions=True)
