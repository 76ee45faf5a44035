"""Keeps the in-memory tree (domain/merkle/memory.py) level with the log: at start it reads
every leaf hash from audit.records in chunks (or, for a log whose whole tree exceeds the store's
bound, the lowest level that fits from the stored nodes in audit.nodes, then the few leaves past
its last complete node), and later whatever the store missed (commits made
while it loaded, or by another replica, learnt through the sizes the cache sees). Reading stops,
and proofs keep using the database, if a chunk comes back short: a gap is for verification to
name."""

from __future__ import annotations

import asyncio
import logging
import time

from runtime.db import Database
from services.audit.log.domain.merkle.cache import TreeCache
from services.audit.log.domain.merkle.hashing import HASH_SIZE
from services.audit.log.domain.merkle.memory import TreeMemory
from services.audit.log.repository import nodes
from services.audit.log.service.proving import log_size

log = logging.getLogger(__name__)
CHUNK = 65_536  # leaves per read: ~4 MB of hex, a short pause for the event loop
IDLE_S = 0.5


async def keep_loaded(db: Database, memory: TreeMemory, cache: TreeCache) -> None:
    started = time.perf_counter()
    size = await log_size(db, cache)
    level = memory.fitting_level(size)
    if level and not await _load_level(db, memory, level, size >> level):
        return
    if not await _catch_up(db, memory, cache):
        return
    log.info(
        "tree loaded: %d records in %.1f s (%d MB)",
        memory.size,
        time.perf_counter() - started,
        memory.nbytes() >> 20,
    )
    while True:
        await asyncio.sleep(IDLE_S)
        if not await _catch_up(db, memory, cache):
            return


async def _catch_up(db: Database, memory: TreeMemory, cache: TreeCache) -> bool:
    """Loads up to the size the cache knows; False once a chunk does not load."""
    while memory.size < cache.known_size:
        if not await _load_next(db, memory, cache.known_size):
            return False
    return True


async def _load_next(db: Database, memory: TreeMemory, target: int) -> bool:
    start = memory.size
    end = min(target, start + CHUNK)
    async with db.read() as connection:
        text = await nodes.copy_leaves(connection, start, end)
    leaves = _hashes(text, end - start)
    if leaves is None:
        log.error(
            "audit.records seqs %d..%d do not load: proofs will read the database", start, end
        )
        return False
    memory.extend_joined(start, leaves)
    return True


async def _load_level(db: Database, memory: TreeMemory, level: int, count: int) -> bool:
    """The stored nodes (level, 0..count-1), read in chunks, then handed to the store at once."""
    chunks: list[bytes] = []
    for start in range(0, count, CHUNK):
        end = min(count, start + CHUNK)
        async with db.read() as connection:
            found = _hashes(await nodes.copy_level(connection, level, start, end), end - start)
        if found is None:
            log.error("audit.nodes level %d does not load: proofs will read the database", level)
            return False
        chunks.append(found)
    return memory.start_at(level, b"".join(chunks))


def _hashes(text: bytes, count: int) -> bytes | None:
    """`count` hashes from COPY text (hex, one a line) back to back; None if it is not that
    (a row missing or not hex: tampered, verification names it)."""
    try:
        found = bytes.fromhex(text.decode("ascii").replace("\n", ""))
    except ValueError:
        return None
    return found if len(found) == HASH_SIZE * count else None
