"""Proof use cases: inclusion and consistency proofs from stored nodes, signed checkpoints and
the public keys that verify them (the configured keyring's, never rows of the database). Nodes
and checkpoints never change once written, so they are served from the sequencer's TreeCache; a
proof asks the database at most for its leaf and the nodes not cached, in one query. Proof
reads are audited without waiting (proof_reads.py)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import cast

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.audit.log.domain.checkpoints.cutting import StoredCheckpoint
from services.audit.log.domain.keyring import PublicKey
from services.audit.log.domain.merkle.cache import TreeCache
from services.audit.log.domain.merkle.hashing import (
    NodeId,
    block_nodes,
    frontier_ids,
    root_from,
)
from services.audit.log.domain.merkle.proofs import (
    consistency_needs,
    consistency_proof,
    inclusion_needs,
    inclusion_proof,
)
from services.audit.log.repository import checkpoints, head
from services.audit.log.repository.nodes import fetch_nodes
from services.audit.log.service.log import AuditLog, note_inclusion_proof, note_read

BLOCK_LEVELS = 3  # past the bound, a proof reads its leaf's whole block up to 8 leaves


@dataclass(frozen=True)
class Inclusion:
    seq: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes
    checkpoint: str


@dataclass(frozen=True)
class Consistency:
    first_size: int
    second_size: int
    proof: list[bytes]
    first_root: bytes
    second_root: bytes


async def prove_inclusion(
    log: AuditLog, *, caller: Principal, seq: int, tree_size: int
) -> Inclusion:
    size, signed = await _tree(log, tree_size)
    if not 0 <= seq < size:
        raise InvalidArgument(f"seq {seq} is not in the tree of size {size}")
    note = signed.note if signed else ""
    memory = log.sequencer.memory
    if memory.holds(size):  # the usual case: no database, no node gathering
        held = memory.view()
        proof = inclusion_proof(seq, size, held)
        found = Inclusion(seq, size, held[(0, seq)], proof, memory.root(size), note)
    else:
        found = await _from_upper(log, seq, size, note) or await _gathered(log, seq, size, note)
    note_inclusion_proof(log, caller, seq, size)
    return found


async def _from_upper(log: AuditLog, seq: int, size: int, note: str) -> Inclusion | None:
    """Past the store's bound, the usual case: the upper levels and the tree's root are held
    and the leaf's block of 2**lowest_held leaves is complete, so only that block's leaves are
    read, in one index range (4 leaves at 10 million records; reading the level-1 sibling from
    audit.nodes instead cost a second index probe and heap page a proof). None otherwise."""
    memory = log.sequencer.memory
    low, root = memory.lowest_held, memory.root_if_held(size)
    first = seq >> low << low
    if root is None or low > BLOCK_LEVELS or first + (1 << low) > size:
        return None
    block = range(first, first + (1 << low))
    read = await _read(log, {(0, index) for index in block})
    below = block_nodes(first, [read[(0, index)] for index in block])
    try:
        # Only read: ChainMap's typing asks for a mutable mapping it never writes here.
        held = cast("MutableMapping[NodeId, bytes]", memory.view())
        # The held levels first: most of a path's nodes are there, a miss costs an exception.
        proof = inclusion_proof(seq, size, ChainMap(held, below))
    except ValueError:  # an upper node the store no longer holds (dropped past its bound)
        return None
    return Inclusion(seq, size, read[(0, seq)], proof, root, note)


async def _gathered(log: AuditLog, seq: int, size: int, note: str) -> Inclusion:
    """Any tree size: every node the proof and the root need, from wherever it is."""
    wanted = inclusion_needs(seq, size) | set(frontier_ids(size)) | {(0, seq)}
    nodes = await _nodes(log, wanted)
    proof = inclusion_proof(seq, size, nodes)
    return Inclusion(seq, size, nodes[(0, seq)], proof, root_from(size, nodes), note)


async def prove_consistency(
    log: AuditLog, *, caller: Principal, first_size: int, second_size: int
) -> Consistency:
    second, _ = await _tree(log, second_size)
    if not 0 < first_size <= second:
        raise InvalidArgument(f"first_size must be in 1..{second}, got {first_size}")
    wanted = consistency_needs(first_size, second)
    wanted |= set(frontier_ids(first_size)) | set(frontier_ids(second))
    nodes = await _nodes(log, wanted)
    proof = consistency_proof(first_size, second, nodes)
    sizes = {"first_size": first_size, "second_size": second}
    note_read(log, caller, "audit.proof.consistency", "log/audit", sizes)
    return Consistency(
        first_size, second, proof, root_from(first_size, nodes), root_from(second, nodes)
    )


async def _tree(log: AuditLog, requested: int) -> tuple[int, StoredCheckpoint | None]:
    """The tree size to prove against (0: the latest checkpoint's) and its checkpoint if any."""
    if requested < 0:
        raise InvalidArgument(f"tree_size {requested} is beyond the log's size")
    if not requested:
        latest = await checkpoint(log)
        return latest.tree_size, latest
    cache = log.sequencer.cache
    if requested > cache.known_size:
        size = await log_size(log.db, cache)
        if requested > size:
            raise InvalidArgument(f"tree_size {requested} is beyond the log's size {size}")
    return requested, await _checkpoint_at(log, requested)


async def _nodes(log: AuditLog, wanted: set[NodeId]) -> dict[NodeId, bytes]:
    """From the in-memory tree; what it lacks (still loading, or past its bound) from the node
    cache, and the rest (the leaf, the lowest levels) in one query shared with the proofs
    asking meanwhile (node_reads.py)."""
    found = log.sequencer.memory.nodes(wanted)
    if len(found) < len(wanted):
        found.update(await _read(log, wanted - found.keys()))
    return found


async def _read(log: AuditLog, wanted: set[NodeId]) -> dict[NodeId, bytes]:
    cache = log.sequencer.cache
    found = cache.nodes(wanted)
    missing = wanted - found.keys()
    if missing:
        fetched = await log.node_reads.fetch(partial(_read_nodes, log.db), missing)
        cache.add_nodes({node: value for node, value in fetched.items() if node[0] > 0})
        found.update(fetched)
    return found


async def _read_nodes(db: Database, wanted: set[NodeId]) -> dict[NodeId, bytes]:
    async with db.read() as connection:
        return await fetch_nodes(connection, wanted)


async def checkpoint(log: AuditLog, tree_size: int = 0) -> StoredCheckpoint:
    found = await _checkpoint_at(log, tree_size)
    if found is None:
        raise NotFound(
            f"no checkpoint at tree size {tree_size}" if tree_size else "no checkpoint yet"
        )
    return found


async def _checkpoint_at(log: AuditLog, tree_size: int) -> StoredCheckpoint | None:
    """Checkpoints never change once cut: served from the cache, except the latest's identity,
    which is asked again once the cache's copy is older than cache.LATEST_TTL_S."""
    cache = log.sequencer.cache
    found = cache.latest() if tree_size == 0 else cache.checkpoint(tree_size)
    if found is not None:
        return found
    async with log.db.read() as connection:
        found = await checkpoints.fetch(connection, tree_size)
    if tree_size == 0:
        cache.set_latest(found)
    elif found is not None:
        cache.add_checkpoint(found)
    return found


def public_keys(log: AuditLog) -> list[PublicKey]:
    """The configured keyring's public keys, each with its window of tree sizes."""
    return log.keyring.public_keys()


async def log_size(db: Database, cache: TreeCache) -> int:
    """The log's size now, read from its head; the cache learns it too."""
    async with db.read() as connection:
        size = await head.log_size(connection)
    cache.saw_size(size)
    return size
