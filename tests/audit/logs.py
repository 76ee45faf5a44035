"""Running audit logs for tests: a sequencer task over a given database, a fresh dev keyring."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from runtime.db import Database
from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.keyring import Keyring, generate_dev_keyring
from services.audit.log.service.keyring import check_keyring
from services.audit.log.service.log import AuditLog
from services.audit.log.service.sequencer import Sequencer

ORIGIN = "tradeops.test/audit"


@functools.cache
def shared_keyring() -> Keyring:
    """One keyring for every test log: logs committed to the shared test database are signed
    by it, and a log refuses a keyring that contradicts its signed checkpoints."""
    return generate_dev_keyring("tradeops.test-audit")


@asynccontextmanager
async def running_log(
    db: Database, keyring: Keyring | None = None, cadence: Cadence | None = None
) -> AsyncIterator[AuditLog]:
    """An AuditLog whose sequencer runs for the duration of the block."""
    keys = keyring or shared_keyring()
    sequencer = Sequencer(db, Checkpointer(keys, ORIGIN, cadence or Cadence(1000, 60_000)))
    await check_keyring(db, keys)
    task = asyncio.create_task(sequencer.run())
    try:
        yield AuditLog(db, sequencer, ORIGIN)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
