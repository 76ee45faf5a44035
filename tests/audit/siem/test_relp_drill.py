"""The RELP drill: a few thousand records forwarded to a real rsyslogd over RELP; rsyslogd is
killed with SIGKILL mid-stream and started again on the same port. Every seq
arrives at least once, and the cursor never stands past a seq that is not in rsyslogd's file
(written before it acknowledged, see rsyslog.py): checked all along the stream, during the
outage and at the end. The figures are printed (run with -s to see them)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from runtime.db import Database
from services.audit.siem.domain.batches import Position
from tests.audit.factories import events
from tests.audit.siem.rsyslog import Rsyslog, receiver
from tests.audit.siem.support import (
    append,
    audit_log,
    checkpoint_sizes,
    cursor_of,
    destination,
    eventually,
    forwarding,
    start_at_head,
)
from tests.audit.siem.syslog_view import audit_fields

ROUNDS, PER_ROUND = 30, 100  # 3,000 records
NAME = f"test-relp-drill-{uuid.uuid4().hex[:8]}"
KILL_AT = 1234  # lines in rsyslogd's file: mid-batch, not where a batch ends
OUTAGE_S = 1.0


@dataclass
class Received:
    """rsyslogd's file, read as it grows: how often each seq and checkpoint arrived."""

    syslog: Rsyslog
    seqs: Counter[int] = field(default_factory=Counter)
    sizes: set[int] = field(default_factory=set)
    _offset: int = 0

    def refresh(self) -> Counter[int]:
        if not self.syslog.output.exists():
            return self.seqs
        with self.syslog.output.open("rb") as file:
            file.seek(self._offset)
            chunk = file.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
        self._offset += len(complete)
        for line in complete.splitlines():
            message = json.loads(line)
            fields = audit_fields(message)
            if message.get("msgid") == "audit":
                self.seqs[int(fields["seq"])] += 1
            elif message.get("msgid") == "checkpoint":
                self.sizes.add(int(fields["tree_size"]))
        return self.seqs


@dataclass
class Watch:
    """Reads the cursor, then the file: every seq up to the cursor must already be there."""

    db: Database
    name: str
    received: Received
    after: int
    checks: int = 0
    passed_acks: list[str] = field(default_factory=list)

    async def check(self) -> Position:
        cursor = await cursor_of(self.db, self.name)
        seen = self.received.refresh()
        missing = [seq for seq in range(self.after + 1, cursor.seq + 1) if seq not in seen]
        if missing:
            self.passed_acks.append(f"cursor at {cursor.seq}, not in the file: {missing[:5]}")
        self.checks += 1
        return cursor

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(0.05)


def kill_after(syslog: Rsyslog, lines: int) -> None:
    """SIGKILL once rsyslogd's file holds `lines` lines, from a thread of its own: the forwarder
    goes on sending meanwhile, so frames are in flight when rsyslogd dies."""
    seen, offset, deadline = 0, 0, time.monotonic() + 30
    while seen < lines:
        if time.monotonic() > deadline:
            raise TimeoutError(f"rsyslogd's file did not reach {lines} lines")
        if syslog.output.exists():
            with syslog.output.open("rb") as file:
                file.seek(offset)
                chunk = file.read()
            offset, seen = offset + len(chunk), seen + chunk.count(b"\n")
        time.sleep(0.001)
    syslog.kill()


async def test_rsyslog_killed_mid_stream_gets_every_seq_and_the_cursor_never_passes_its_acks(
    live_db: Database, tmp_path: Path
) -> None:
    async with audit_log(live_db, every_records=500) as log:
        start = await start_at_head(live_db, NAME)
        appended = [seq for _ in range(ROUNDS) for seq in await append(log, events(PER_ROUND))]
    sizes = await checkpoint_sizes(live_db, after=start.checkpoint_size)
    end = Position(appended[-1], sizes[-1])
    with receiver(tmp_path / "rsyslog", relp=True) as syslog:
        target = destination("relp", host="127.0.0.1", port=syslog.port)
        target = dataclasses.replace(target, name=NAME)
        received = Received(syslog)
        watch = Watch(live_db, NAME, received, start.seq)
        async with forwarding(live_db, target):
            watching = asyncio.create_task(watch.run())
            try:
                await asyncio.to_thread(kill_after, syslog, KILL_AT)
                at_kill = len(received.refresh())
                await asyncio.sleep(OUTAGE_S)
                during_outage = await watch.check()
                lines_before_restart = sum(received.refresh().values())
                restarted = time.monotonic()
                syslog.start()

                async def resumed() -> bool:
                    return sum(received.refresh().values()) > lines_before_restart

                await eventually(resumed, "records arrive again after the restart")
                resumed_s = time.monotonic() - restarted

                async def at_the_end() -> bool:
                    return await cursor_of(live_db, NAME) == end

                await eventually(at_the_end, "the cursor reaches the end of the log")
                catch_up_s = time.monotonic() - restarted
                await watch.check()
            finally:
                watching.cancel()
        seqs = received.refresh()
        lines = sum(seqs.values())
    print(
        f"\nRELP drill: {len(appended)} records and {len(sizes)} checkpoints in the log;"
        f" rsyslogd killed (SIGKILL) with {at_kill} distinct seqs in its file and restarted"
        f" {OUTAGE_S} s later with the cursor at +{during_outage.seq - start.seq}"
        f" ({appended[-1] - during_outage.seq} records behind); records again after"
        f" {resumed_s:.2f} s, caught up in {catch_up_s:.2f} s;"
        f" {lines} records received, {len(seqs)} distinct, {lines - len(seqs)} duplicates"
        f" ({lines - lines_before_restart} received after the restart);"
        f" cursor checked against the file {watch.checks} times"
    )
    assert at_kill < len(appended), "rsyslogd was killed mid-stream"
    assert watch.passed_acks == [], "the cursor passed what rsyslogd had written"
    # Sent twice: only what was in flight unanswered when rsyslogd died, at most the window.
    assert lines - len(seqs) <= target.window
    assert watch.checks > 20
    assert not set(appended) - set(seqs), "records missing at the receiver"
    assert not set(sizes) - received.sizes, "checkpoints missing at the receiver"
    assert len(appended) == ROUNDS * PER_ROUND
