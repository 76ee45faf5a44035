"""Proof use cases: inclusion and consistency proofs from stored nodes (one query each), signed
checkpoints and the public keys that verify them. Proof reads are audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.errors import InvalidArgument, NotFound
from services.audit import checkpoint_store, repository
from services.audit.checkpoint_store import StoredCheckpoint
from services.audit.keyring import PublicKey
from services.audit.merkle import frontier_ids, root_from
from services.audit.merkle_proofs import (
    consistency_needs,
    consistency_proof,
    inclusion_needs,
    inclusion_proof,
)
from services.audit.service import AuditLog, record_own
from services.audit.tree_store import read_nodes


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
    async with log.db.transaction() as session:
        size = await _tree_size(session, tree_size)
        if not 0 <= seq < size:
            raise InvalidArgument(f"seq {seq} is not in the tree of size {size}")
        wanted = inclusion_needs(seq, size) | set(frontier_ids(size)) | {(0, seq)}
        nodes = await read_nodes(session, wanted)
        signed = await checkpoint_store.get(session, size)
    proof = inclusion_proof(seq, size, nodes)
    await record_own(log, caller, "audit.proof.inclusion", f"record/{seq}", {"tree_size": size})
    note = signed.note if signed and signed.tree_size == size else ""
    return Inclusion(seq, size, nodes[(0, seq)], proof, root_from(size, nodes), note)


async def prove_consistency(
    log: AuditLog, *, caller: Principal, first_size: int, second_size: int
) -> Consistency:
    async with log.db.transaction() as session:
        second = await _tree_size(session, second_size)
        if not 0 < first_size <= second:
            raise InvalidArgument(f"first_size must be in 1..{second}, got {first_size}")
        wanted = consistency_needs(first_size, second)
        wanted |= set(frontier_ids(first_size)) | set(frontier_ids(second))
        nodes = await read_nodes(session, wanted)
    proof = consistency_proof(first_size, second, nodes)
    sizes = {"first_size": first_size, "second_size": second}
    await record_own(log, caller, "audit.proof.consistency", "log/audit", sizes)
    return Consistency(
        first_size, second, proof, root_from(first_size, nodes), root_from(second, nodes)
    )


async def _tree_size(session: AsyncSession, requested: int) -> int:
    """requested, checked against the log; 0 means the latest checkpoint's size."""
    size = (await repository.read_head(session)).size
    latest = await checkpoint_store.get(session)
    if requested < 0 or requested > size:
        raise InvalidArgument(f"tree_size {requested} is beyond the log's size {size}")
    if requested:
        return requested
    if latest is None:
        raise NotFound("no checkpoint has been signed yet")
    return latest.tree_size


async def checkpoint(log: AuditLog, tree_size: int = 0) -> StoredCheckpoint:
    async with log.db.transaction() as session:
        found = await checkpoint_store.get(session, tree_size)
    if found is None:
        raise NotFound(
            f"no checkpoint at tree size {tree_size}" if tree_size else "no checkpoint yet"
        )
    return found


async def public_keys(log: AuditLog) -> list[PublicKey]:
    async with log.db.transaction() as session:
        return await checkpoint_store.public_keys(session)
