from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import text

from runtime.db import Database
from services.audit.log.service.log import AuditLog
from services.audit.siem.clients.formats import formatter_for
from services.audit.siem.domain.batches import Position
from tests.audit.factories import events
from tests.audit.siem.rsyslog import receiver
from tests.audit.siem.support import (
    append,
    audit_log,
    checkpoint_sizes,
    cursor_of,
    destination,
    eventually,
    five_records_and_their_checkpoint_forwarded,
    forwarding,
    records,
    start_at_head,
)
from tests.audit.siem.syslog_view import (
    audit_fields,
    expected_fields,
    received,
    seqs_at,
    sizes_at,
    unescape,
)


async def stored_note(db: Database, size: int) -> dict[str, Any]:
    query = "SELECT root_hash, key_id, note FROM audit.checkpoints WHERE tree_size = :size"
    async with db.transaction() as session:
        return dict((await session.execute(text(query), {"size": size})).one()._mapping)


async def test_records_and_their_checkpoint_reach_rsyslog_over_tcp_with_the_audit_fields(
    live_db: Database, tmp_path: Path
) -> None:
    with receiver(tmp_path / "rsyslog") as syslog:
        target = destination("tcp", host="127.0.0.1", port=syslog.port)
        seqs, size = await five_records_and_their_checkpoint_forwarded(live_db, target)
        by_seq = {int(audit_fields(m)["seq"]): m for m in received(syslog, "audit")}
        for record in await records(live_db, seqs):
            message = by_seq[record.seq]
            assert audit_fields(message) == expected_fields(record)
            assert message["rawmsg"] == formatter_for(target).record(record).decode()
            assert (message["app-name"], message["hostname"]) == ("tradeops-audit", "audit-test")
            assert (message["syslogfacility"], message["syslogseverity"]) == ("13", "6")
        (signed,) = received(syslog, "checkpoint")
        stored = await stored_note(live_db, size)
    assert size == seqs[-1] + 1
    assert audit_fields(signed) == {
        "tree_size": str(size),
        "root_hash": stored["root_hash"],
        "key_id": stored["key_id"],
    }
    assert unescape(signed["msg"]) == stored["note"]


async def produce(log: AuditLog, rounds: int, per_round: int) -> list[int]:
    seqs: list[int] = []
    for _ in range(rounds):
        seqs += await append(log, events(per_round))
        await asyncio.sleep(0.02)
    return seqs


async def test_a_receiver_killed_mid_stream_and_restarted_still_gets_every_record(
    live_db: Database, tmp_path: Path
) -> None:
    with receiver(tmp_path / "rsyslog") as syslog:
        target = destination("tcp", host="127.0.0.1", port=syslog.port, batch_size=20)
        start = await start_at_head(live_db, target.name)
        async with audit_log(live_db, every_records=100) as log, forwarding(live_db, target):
            producing = asyncio.create_task(produce(log, rounds=40, per_round=10))
            try:

                async def some_arrived() -> bool:
                    return len(seqs_at(syslog)) >= 100

                await eventually(some_arrived, "a first part of the stream arrives")
                syslog.kill()
                await asyncio.sleep(0.3)
                syslog.start()
                seqs = await producing
            finally:
                producing.cancel()
            sizes = await checkpoint_sizes(live_db, after=start.checkpoint_size)

            async def confirmed() -> bool:
                return await cursor_of(live_db, target.name) == Position(seqs[-1], sizes[-1])

            await eventually(confirmed, "the cursor reaches the end of the log")
        assert not set(seqs) - seqs_at(syslog), "records missing at the receiver"
        assert not set(sizes) - sizes_at(syslog), "checkpoints missing at the receiver"
    assert len(seqs) == 400
