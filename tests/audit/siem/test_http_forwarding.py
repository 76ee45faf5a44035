from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtime.db import Database
from services.audit.siem.domain.batches import Position
from tests.audit.factories import events
from tests.audit.siem.collector import collector
from tests.audit.siem.support import (
    append,
    audit_log,
    checkpoint_sizes,
    cursor_of,
    destination,
    eventually,
    forwarding,
    records,
    start_at_head,
)

TOKEN = "hec-token-7f3a9c"


def delivered_sizes(events: list[dict[str, Any]]) -> list[int]:
    return [e["event"]["tree_size"] for e in events if e["event"]["kind"] == "checkpoint"]


def position(events: list[dict[str, Any]], key: str, value: int) -> int:
    return next(index for index, e in enumerate(events) if e["event"].get(key) == value)


async def test_records_reach_a_collector_that_answers_503_for_a_while_and_the_cursor_waits(
    live_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token_file = tmp_path / "hec.token"
    token_file.write_text(f"{TOKEN}\n")
    with collector() as hec:
        target = destination("http", url=hec.url, token_file=str(token_file))
        start = await start_at_head(live_db, target.name)
        async with audit_log(live_db) as log:
            seqs = [seq for count in (10, 10, 5) for seq in await append(log, events(count))]
        sizes = await checkpoint_sizes(live_db, after=start.checkpoint_size)
        hec.failing = True
        async with forwarding(live_db, target):

            async def refused_thrice() -> bool:
                return hec.statuses.count(503) >= 3

            await eventually(refused_thrice, "the collector refuses three posts")
            assert await cursor_of(live_db, target.name) == start
            hec.failing = False

            async def confirmed() -> bool:
                return await cursor_of(live_db, target.name) == Position(seqs[-1], sizes[-1])

            await eventually(confirmed, "the cursor reaches the last record and checkpoint")
    delivered = [e["event"] for e in hec.events if e["event"]["kind"] == "record"]
    by_seq = {event["seq"]: event for event in delivered}
    for record in await records(live_db, seqs):
        assert by_seq[record.seq]["event_id"] == record.event.event_id
        assert by_seq[record.seq]["leaf_hash"] == record.leaf_hash
    first = start.seq + 1
    assert sizes == [first + 10, first + 20, first + 25] == delivered_sizes(hec.events)
    for size in sizes:  # a checkpoint arrives after the last record it covers
        assert position(hec.events, "tree_size", size) > position(hec.events, "seq", size - 1)
    assert set(hec.authorizations) == {f"Splunk {TOKEN}"}
    assert "answered 503" in caplog.text
    assert TOKEN not in caplog.text
