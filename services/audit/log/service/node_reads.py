"""The Merkle nodes proofs must read from the database (those the in-memory tree does not hold:
the lowest levels of a log too large for its bound), gathered across proofs. While IN_FLIGHT
queries are in flight, the nodes other proofs want wait and go together in the next, so callers
share one round trip instead of paying one each (at 16 callers over 10 million records a
proof per query served about half the target rate). A batch that fails is asked again proof by
proof, so a missing or tampered node fails only the proofs that need it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.audit.log.domain.merkle.hashing import NodeId

Fetch = Callable[[set[NodeId]], Awaitable[dict[NodeId, bytes]]]
_Pending = tuple[set[NodeId], "asyncio.Future[dict[NodeId, bytes]]"]


IN_FLIGHT = 2  # queries at once: at 10 million records one backend alone was the bottleneck


class NodeReads:
    def __init__(self, in_flight: int = IN_FLIGHT) -> None:
        self._pending: list[_Pending] = []
        self._readers: set[asyncio.Task[None]] = set()
        self._in_flight = in_flight

    async def fetch(self, read: Fetch, wanted: set[NodeId]) -> dict[NodeId, bytes]:
        """The wanted nodes, read with those other proofs want meanwhile; `read` fetches a set
        of nodes in one query (raising if any is missing)."""
        answer: asyncio.Future[dict[NodeId, bytes]] = asyncio.get_running_loop().create_future()
        self._pending.append((wanted, answer))
        if len(self._readers) < self._in_flight:
            reader = asyncio.create_task(self._drain(read))
            self._readers.add(reader)
            reader.add_done_callback(self._readers.discard)
        return await answer

    async def _drain(self, read: Fetch) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            if len(batch) == 1:
                await _answer(read, *batch[0])
                continue
            try:
                found = await read(set().union(*(wanted for wanted, _ in batch)))
            except Exception:
                for pending in batch:
                    await _answer(read, *pending)
                continue
            for wanted, answer in batch:
                if not answer.done():
                    answer.set_result({node: found[node] for node in wanted})


async def _answer(
    read: Fetch, wanted: set[NodeId], answer: asyncio.Future[dict[NodeId, bytes]]
) -> None:
    if answer.done():  # its caller gave up (deadline, cancelled)
        return
    try:
        found = await read(wanted)
    except Exception as exc:
        if not answer.done():
            answer.set_exception(exc)
        return
    if not answer.done():
        answer.set_result(found)
