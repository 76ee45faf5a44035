"""The in-memory tree that serves proofs: it holds exactly the stored tree's nodes, only grows
at its end, stays within its bound, and a log's proofs are the same whether served from it or
from the database."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from runtime.db import Database
from services.audit.log.domain.merkle.hashing import append_nodes, leaf_hash
from services.audit.log.domain.merkle.memory import TreeMemory
from services.audit.log.domain.merkle.proofs import verify_inclusion
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.proving import prove_inclusion
from services.audit.log.workers.tree import keep_loaded
from tests.audit.conftest import tamper
from tests.audit.factories import READER, events


def leaves(count: int) -> list[bytes]:
    return [leaf_hash(str(n).encode()) for n in range(count)]


def grown(store: TreeMemory, hashes: list[bytes], seed: int) -> TreeMemory:
    chance, done = random.Random(seed), 0
    while done < len(hashes):
        step = chance.randint(0, 70)
        assert store.extend(done, hashes[done : done + step])
        done += len(hashes[done : done + step])
    return store


@pytest.mark.parametrize("seed", range(5))
def test_the_store_holds_every_stored_node_whatever_the_batch_split(seed: int) -> None:
    hashes = leaves(1000 + seed * 37)
    expected, _ = append_nodes(0, {}, hashes)

    store = grown(TreeMemory(), hashes, seed)

    assert store.nodes(expected) == expected
    assert store.nodes([(0, len(hashes)), (10, 1), (3, 10**6)]) == {}


def test_a_batch_that_would_leave_a_gap_or_overlap_is_refused_and_changes_nothing() -> None:
    hashes = leaves(10)
    store = TreeMemory()
    assert store.extend(0, hashes[:4])

    assert not store.extend(5, hashes[5:])
    assert not store.extend(2, hashes[2:])
    assert store.size == 4
    assert store.extend(4, hashes[4:])
    expected, _ = append_nodes(0, {}, hashes)
    assert store.nodes(expected) == expected


@pytest.mark.parametrize("bound", [40_000, 10_000, 1_000])
def test_a_bounded_store_drops_its_lowest_levels_and_keeps_serving_the_upper_ones(
    bound: int,
) -> None:
    hashes = leaves(3000)
    expected, _ = append_nodes(0, {}, hashes)

    store = grown(TreeMemory(bound), hashes, seed=7)

    served = store.nodes(expected)
    assert store.nbytes() <= bound
    assert served == {node: expected[node] for node in served}
    assert (11, 0) in served  # the largest complete subtree
    assert (0, 5) not in served


async def test_a_loaded_store_serves_the_same_proofs_as_the_database(
    empty_log: AuditLog,
) -> None:
    await append(empty_log, events(300))
    from_memory = await prove_inclusion(empty_log, caller=READER, seq=123, tree_size=0)
    empty_log.sequencer.memory = TreeMemory()  # as if just started: nothing loaded yet
    from_database = await prove_inclusion(empty_log, caller=READER, seq=123, tree_size=0)

    loaded = await _load(empty_log, size=300)

    assert loaded.size == 300
    assert from_memory == from_database
    verify_inclusion(123, 300, from_memory.leaf_hash, from_memory.proof, from_memory.root)
    empty_log.sequencer.memory = loaded
    assert await prove_inclusion(empty_log, caller=READER, seq=123, tree_size=0) == from_memory


async def test_a_leaf_that_does_not_load_leaves_the_proofs_to_the_database(
    empty_log: AuditLog, audit_admin_db: Database
) -> None:
    await append(empty_log, events(40))
    expected = await prove_inclusion(empty_log, caller=READER, seq=30, tree_size=0)
    await tamper(audit_admin_db, "UPDATE audit.records SET leaf_hash = 'not hex' WHERE seq = 20")

    loaded = await _load(empty_log, size=40)

    assert loaded.size == 0
    empty_log.sequencer.memory = loaded
    assert await prove_inclusion(empty_log, caller=READER, seq=30, tree_size=0) == expected


async def _load(log: AuditLog, *, size: int) -> TreeMemory:
    """A fresh store, loaded by the loader until it holds `size` leaves or gives up."""
    store = TreeMemory()
    loader = asyncio.create_task(keep_loaded(log.db, store, log.sequencer.cache))
    try:
        for _ in range(500):
            if loader.done() or store.size >= size:
                break
            await asyncio.sleep(0.01)
    finally:
        loader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loader
    return store
