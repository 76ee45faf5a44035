"""The in-memory tree that serves proofs: it holds exactly the stored tree's nodes, only grows
at its end, stays within its bound, and a log's proofs are the same whether served from it or
from the database."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from runtime.db import Database
from services.audit.log.domain.merkle.hashing import append_nodes, leaf_hash, root_of
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


@pytest.mark.parametrize(("count", "level"), [(1024, 2), (1000, 3), (999, 1), (7, 2)])
def test_a_store_started_from_a_stored_level_holds_the_same_nodes_and_grows_on(
    count: int, level: int
) -> None:
    hashes = leaves(count + 300)
    expected, _ = append_nodes(0, {}, hashes)
    start = (count >> level) << level
    stored = b"".join(expected[(level, index)] for index in range(count >> level))

    store = TreeMemory()
    assert store.start_at(level, stored)
    assert store.size == start
    assert store.extend(start, hashes[start:])

    upper = {node: value for node, value in expected.items() if node[0] >= level}
    assert store.nodes(upper) == upper
    assert store.root(len(hashes)) == root_of(hashes)  # the frontier below is kept
    assert not store.holds(len(hashes))
    assert not store.start_at(level, stored)  # only an empty store starts


def test_the_fitting_level_is_the_lowest_whose_upper_tree_fits_the_bound() -> None:
    assert TreeMemory(64 * 1000).fitting_level(1000) == 0
    assert TreeMemory(32 * 1000).fitting_level(1000) == 1
    assert TreeMemory(256 << 20).fitting_level(10_000_000) == 2


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


async def test_a_log_beyond_the_bound_loads_its_upper_levels_from_the_stored_nodes(
    empty_log: AuditLog,
) -> None:
    await append(empty_log, events(300))
    expected = await prove_inclusion(empty_log, caller=READER, seq=123, tree_size=0)

    loaded = await _load(empty_log, size=300, bound=32 * 100)

    assert loaded.size == 300
    assert loaded.fitting_level(300) == 3  # 37 nodes of level 3 read, 4 leaves past them
    assert loaded.nodes([(0, 123), (1, 20)]) == {}
    empty_log.sequencer.memory = loaded
    assert await prove_inclusion(empty_log, caller=READER, seq=123, tree_size=0) == expected
    await append(empty_log, events(5))
    assert loaded.size == 305  # the sequencer's commits carry on from the loaded level


async def test_past_the_bound_every_proof_is_the_one_the_database_gives(
    empty_log: AuditLog,
) -> None:
    await append(empty_log, events(150))
    await empty_log.sequencer.checkpoint_if_due()
    await append(empty_log, events(53))
    loaded = await _load(empty_log, size=203, bound=32 * 60)
    assert loaded.lowest_held == 3  # a proof reads its leaf's block of 8 from the database

    for tree_size in (0, 150):
        for seq in range(150):  # full blocks, the last partial one, an older tree's edge
            empty_log.sequencer.memory = TreeMemory()
            expected = await prove_inclusion(empty_log, caller=READER, seq=seq, tree_size=tree_size)
            empty_log.sequencer.memory = loaded
            found = await prove_inclusion(empty_log, caller=READER, seq=seq, tree_size=tree_size)
            assert found == expected


async def _load(log: AuditLog, *, size: int, bound: int = 256 << 20) -> TreeMemory:
    """A fresh store, loaded by the loader until it holds `size` leaves or gives up."""
    store = TreeMemory(bound)
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
