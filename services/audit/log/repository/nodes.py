"""Stored Merkle nodes: level 0 is each record's leaf_hash, higher levels are audit.nodes.
Every proof and every root is computed from at most a few dozen such nodes, read in one query
per level kind, so no proof re-reads the log. The in-memory tree loads the leaves in bulk
(`copy_leaves`); the sequencer writes the upper nodes (appends.py, their one write path)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection
from services.audit.log.domain.merkle.hashing import NodeId
from services.audit.tables import records

_UPPER = text(
    "SELECT n.level, n.idx, n.hash FROM audit.nodes n"
    " JOIN unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS w(level, idx)"
    " ON n.level = w.level AND n.idx = w.idx"
)


async def read_nodes(session: AsyncSession, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    wanted = set(ids)
    leaves = sorted(index for level, index in wanted if level == 0)
    upper = sorted(node for node in wanted if node[0] > 0)
    found: dict[NodeId, bytes] = {}
    if leaves:
        query = select(records.c.seq, records.c.leaf_hash).where(records.c.seq.in_(leaves))
        for row in await session.execute(query):
            found[(0, row.seq)] = bytes.fromhex(row.leaf_hash)
    if upper:
        params = {"levels": [n[0] for n in upper], "idxs": [n[1] for n in upper]}
        for row in await session.execute(_UPPER, params):
            found[(row.level, row.idx)] = bytes(row.hash)
    _require(wanted, found)
    return found


# Leaves and upper nodes in one round trip (the proofs' hot path, on a plain connection).
_ANY = (
    "SELECT 0::smallint, seq, decode(leaf_hash, 'hex') FROM audit.records"
    " WHERE seq = ANY(%s::bigint[])"
    " UNION ALL SELECT n.level, n.idx, n.hash FROM audit.nodes n"
    " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx)"
    " ON n.level = w.level AND n.idx = w.idx"
)


async def fetch_nodes(connection: RawConnection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    wanted = set(ids)
    leaves = [index for level, index in wanted if level == 0]
    upper = [node for node in wanted if node[0] > 0]
    params = (leaves, [n[0] for n in upper], [n[1] for n in upper])
    cursor = await connection.execute(_ANY, params)
    found = {(level, index): bytes(value) for level, index, value in await cursor.fetchall()}
    _require(wanted, found)
    return found


def _require(wanted: set[NodeId], found: Mapping[NodeId, bytes]) -> None:
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"Merkle nodes missing from the store: {sorted(missing)[:5]}")


def upper_rows(nodes: Mapping[NodeId, bytes]) -> list[tuple[int, int, bytes]]:
    """The nodes to store: level 0 already lives in records.leaf_hash."""
    return [(level, index, value) for (level, index), value in nodes.items() if level > 0]


_LEAVES = (
    "COPY (SELECT leaf_hash FROM audit.records WHERE seq >= {start} AND seq < {end}"
    " ORDER BY seq) TO STDOUT"
)


_LEVEL = (
    "COPY (SELECT encode(hash, 'hex') FROM audit.nodes WHERE level = {level}"
    " AND idx >= {start} AND idx < {end} ORDER BY idx) TO STDOUT"
)


async def copy_leaves(connection: RawConnection, start: int, end: int) -> bytes:
    """The leaf hashes of seqs [start, end) as COPY text: hex, one a line, in seq order."""
    return await _copy(connection, _LEAVES.format(start=int(start), end=int(end)))


async def copy_level(connection: RawConnection, level: int, start: int, end: int) -> bytes:
    """As copy_leaves, for the stored nodes (level, start) .. (level, end - 1), level > 0."""
    return await _copy(connection, _LEVEL.format(level=int(level), start=int(start), end=int(end)))


async def _copy(connection: RawConnection, statement: str) -> bytes:
    chunks: list[bytes] = []
    cursor = connection.cursor()
    async with cursor.copy(statement) as copy:
        async for data in copy:
            chunks.append(bytes(data))
    return b"".join(chunks)
