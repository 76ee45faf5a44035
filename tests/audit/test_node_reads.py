"""Proofs' database reads of Merkle nodes are shared: concurrent proofs go in one query, and a
node that cannot be read fails only the proofs that want it."""

from __future__ import annotations

import asyncio

import pytest

from services.audit.log.domain.merkle.hashing import NodeId
from services.audit.log.service.node_reads import NodeReads


class Store:
    def __init__(self, broken: NodeId | None = None) -> None:
        self.queries: list[set[NodeId]] = []
        self.broken = broken

    async def read(self, wanted: set[NodeId]) -> dict[NodeId, bytes]:
        self.queries.append(set(wanted))
        await asyncio.sleep(0.01)  # a round trip, during which other proofs queue
        if self.broken in wanted:
            raise LookupError(f"Merkle nodes missing from the store: {[self.broken]}")
        return {node: bytes([node[0], node[1] % 256]) * 16 for node in wanted}


async def test_concurrent_proofs_share_one_query_and_each_gets_what_it_asked() -> None:
    store, reads = Store(), NodeReads()
    asks = [{(0, n), (1, n // 2 ^ 1)} for n in range(0, 40, 2)]

    answers = await asyncio.gather(*(reads.fetch(store.read, wanted) for wanted in asks))

    assert len(store.queries) <= 2
    for wanted, found in zip(asks, answers, strict=True):
        assert found.keys() == wanted
        assert all(value == bytes([n[0], n[1] % 256]) * 16 for n, value in found.items())


async def test_a_missing_node_fails_only_the_proofs_that_need_it() -> None:
    store, reads = Store(broken=(0, 7)), NodeReads()
    asks = [{(0, n)} for n in range(10)]

    answers = await asyncio.gather(
        *(reads.fetch(store.read, wanted) for wanted in asks), return_exceptions=True
    )

    assert isinstance(answers[7], LookupError)
    assert [found for found in answers if isinstance(found, Exception)] == [answers[7]]


async def test_a_caller_that_gave_up_does_not_stop_the_others() -> None:
    store, reads = Store(), NodeReads()
    first = asyncio.create_task(reads.fetch(store.read, {(0, 1)}))
    await asyncio.sleep(0)
    gone = asyncio.create_task(reads.fetch(store.read, {(0, 2)}))
    kept = asyncio.create_task(reads.fetch(store.read, {(0, 3)}))
    await asyncio.sleep(0)
    gone.cancel()

    assert (await first).keys() == {(0, 1)}
    assert (await kept).keys() == {(0, 3)}
    with pytest.raises(asyncio.CancelledError):
        await gone
