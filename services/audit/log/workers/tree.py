"""Keeps the in-memory tree (domain/merkle/memory.py) level with the log: at start it reads
every leaf hash from audit.records in chunks, and later whatever the store missed (commits made
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
    await log_size(db, cache)
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
    try:
        leaves = bytes.fromhex(text.decode("ascii").replace("\n", ""))
    except ValueError:
        leaves = b""  # a stored leaf hash that is not hex: tampered, verification names it
    if len(leaves) != HASH_SIZE * (end - start):
        log.error(
            "audit.records seqs %d..%d do not load: proofs will read the database", start, end
        )
        return False
    memory.extend_joined(start, leaves)
    return True
