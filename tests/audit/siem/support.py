"""Helpers of the forwarding tests. They run on committed rows, so a cursor starts at the
current head and assertions are about the seqs each test appended."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from runtime.db import Database
from services.audit.log.domain.checkpoints.cutting import Cadence
from services.audit.log.domain.records import Event, Record
from services.audit.log.repository.records import page
from services.audit.log.service import log as service
from services.audit.log.service.log import AuditLog
from services.audit.siem.domain.batches import Position
from services.audit.siem.settings import DEFAULT_FORMAT, Destination
from services.audit.siem.workers.forwarder import Forwarder
from services.audit.siem.workers.lag import LagBoard
from tests.audit.factories import event, events
from tests.audit.logs import running_log
from tests.audit.siem.certs import make_pki
from tests.audit.siem.rsyslog import receiver
from tests.audit.siem.syslog_view import audit_fields, expected_fields, received

FAST = {"confirm_after_s": 0.2, "backoff_cap_s": 0.2, "poll_s": 0.05, "timeout_s": 2.0}


@asynccontextmanager
async def audit_log(db: Database, every_records: int = 1) -> AsyncIterator[AuditLog]:
    """The real sequencer, cutting a signed checkpoint every `every_records` records."""
    async with running_log(db, cadence=Cadence(every_records, 3_600_000)) as log:
        yield log


def destination(transport: str, **options: Any) -> Destination:
    name = f"test-{transport}-{uuid.uuid4().hex[:8]}"
    default = {"format": DEFAULT_FORMAT[transport], "hostname": "audit-test", **FAST}
    return Destination(name, transport, **{**default, **options})


async def start_at_head(db: Database, name: str) -> Position:
    async with db.transaction() as session:
        size = (await session.execute(text("SELECT size FROM audit.head"))).scalar_one()
        signed = "SELECT coalesce(max(tree_size), 0) FROM audit.checkpoints"
        checkpoint_size = (await session.execute(text(signed))).scalar_one()
        insert = "INSERT INTO audit.siem_cursors (destination, confirmed_seq, checkpoint_size)"
        values = {"name": name, "seq": size - 1, "size": checkpoint_size}
        await session.execute(text(f"{insert} VALUES (:name, :seq, :size)"), values)
    return Position(size - 1, checkpoint_size)


async def cursor_of(db: Database, name: str) -> Position:
    query = "SELECT confirmed_seq, checkpoint_size FROM audit.siem_cursors WHERE destination = :n"
    async with db.transaction() as session:
        row = (await session.execute(text(query), {"n": name})).one()
    return Position(row.confirmed_seq, row.checkpoint_size)


async def append(log: AuditLog, events: Sequence[Event]) -> list[int]:
    return [result.seq for result in await service.append(log, events)]


async def records(db: Database, seqs: Sequence[int]) -> list[Record]:
    async with db.transaction() as session:
        found = await page(session, after_seq=seqs[0] - 1, limit=len(seqs), upto=seqs[-1])
    return found


async def checkpoint_sizes(db: Database, after: int) -> list[int]:
    query = "SELECT tree_size FROM audit.checkpoints WHERE tree_size > :after ORDER BY 1"
    async with db.transaction() as session:
        return list((await session.execute(text(query), {"after": after})).scalars())


@asynccontextmanager
async def forwarding(db: Database, target: Destination) -> AsyncIterator[LagBoard]:
    board = LagBoard()
    task = asyncio.create_task(Forwarder(db, target, board).run())
    try:
        yield board
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.05)


async def five_records_and_their_checkpoint_forwarded(
    db: Database, target: Destination
) -> tuple[list[int], int]:
    """Appends five records (the first with a target that needs quoting in every format), lets
    `target`'s forwarder run until its cursor covers them and their checkpoint with nothing
    lagging, and returns their seqs and the checkpoint's size."""
    start = await start_at_head(db, target.name)
    async with audit_log(db) as log:
        seqs = await append(log, [event(target='desk "fx]\\eu'), *events(4)])
    (size,) = await checkpoint_sizes(db, after=start.checkpoint_size)
    async with forwarding(db, target) as board:

        async def confirmed() -> bool:
            return await cursor_of(db, target.name) == Position(seqs[-1], size)

        await eventually(confirmed, "the cursor reaches the last record and checkpoint")
    assert board.snapshot() == {target.name: 0}
    return seqs, size


async def three_records_arrive_over_mutual_tls(
    db: Database, folder: Path, transport: str, server_name: str
) -> None:
    """Forwards three records to an rsyslogd that wants a client certificate (over RELP for
    `relp+tls`) and checks each arrived with its audit fields."""
    pki = make_pki(folder)
    relp = transport == "relp+tls"
    with receiver(folder / "rsyslog", relp=relp, pki=pki, mutual=True) as syslog:
        target = destination(
            transport,
            host="127.0.0.1",
            port=syslog.port,
            ca_file=str(pki.ca_file),
            cert_file=str(pki.client_cert),
            key_file=str(pki.client_key),
            server_name=server_name,
        )
        await start_at_head(db, target.name)
        async with audit_log(db) as log:
            seqs = await append(log, events(3))
        async with forwarding(db, target):

            async def confirmed() -> bool:
                return (await cursor_of(db, target.name)).seq == seqs[-1]

            await eventually(confirmed, "the cursor reaches the last record")
        by_seq = {int(audit_fields(m)["seq"]): m for m in received(syslog, "audit")}
        for record in await records(db, seqs):
            assert audit_fields(by_seq[record.seq]) == expected_fields(record)
