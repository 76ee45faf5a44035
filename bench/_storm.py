"""The market-open storm's measurements; import-only (`make bench` skips bench/_*.py). The
outbox backlog of every service sampled once a second, and the audit log's lag read from the
rows' own times, on the whole system of _ops_stack.whole_system."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import psycopg

OUTBOXES = ("agent", "ops", "export")


BACKLOG = " UNION ALL ".join(
    f"SELECT '{s}', count(*), count(*) FILTER (WHERE id <= %s) FROM {s}.outbox"
    " WHERE delivered_at IS NULL"
    for s in OUTBOXES
)
# Decisions whose recommended action is not yet proposed to ops: the agent's other queue.
PROPOSALS = (
    "SELECT count(*) FROM agent.decisions WHERE action_id IS NULL AND recommended_action <> ''"
)
EVERY = 2**62


@dataclass(frozen=True)
class Sample:
    at: float  # seconds from the sampler's start
    undelivered: dict[str, int]  # every undelivered row, of each service
    storms: int  # undelivered rows written up to the storm's end (all services)
    proposals: int


async def sample(conn: psycopg.AsyncConnection, at: float, upto: dict[str, int]) -> Sample:
    bounds = [upto.get(service, EVERY) for service in OUTBOXES]
    rows = await (await conn.execute(BACKLOG, bounds)).fetchall()
    pending = await (await conn.execute(PROPOSALS)).fetchone()
    undelivered = {str(name): int(count) for name, count, _ in rows}
    return Sample(at, undelivered, sum(int(r[2]) for r in rows), int(pending[0]) if pending else 0)


@dataclass
class Sampler:
    """The backlog once a second from `started`. `end(upto)` marks the storm's end, with each
    outbox's last id then: the storm's rows are those up to it (the agent keeps writing rows
    after the storm as it proposes the storm's decisions to ops)."""

    admin_url: str
    samples: list[Sample] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    upto: dict[str, int] = field(default_factory=dict)

    def end(self, at: float, upto: dict[str, int]) -> None:
        self.ended, self.upto = at, upto

    async def run(self, wait_s: float) -> None:
        """Samples until, once the storm ended, its rows are delivered or wait_s have passed."""
        async with await psycopg.AsyncConnection.connect(self.admin_url, autocommit=True) as conn:
            tick = self.started
            while True:
                at = time.perf_counter() - self.started
                self.samples.append(await sample(conn, at, self.upto))
                if self.ended is not None and (
                    self.drained_after() is not None or time.perf_counter() - self.ended > wait_s
                ):
                    return
                tick += 1.0
                await asyncio.sleep(max(0.0, tick - time.perf_counter()))

    def drained_after(self) -> float | None:
        """Seconds from the storm's end to the first sample with none of its rows undelivered."""
        assert self.ended is not None
        end = self.ended - self.started
        after = [s for s in self.samples if s.at >= end and self.upto]
        return next((s.at - end for s in after if not s.storms), None)

    def table(self) -> str:
        end = (self.ended or float("inf")) - self.started
        head = "".join(f"{name:>9}" for name in OUTBOXES)
        lines = [f"     t  {head}  storm's  proposals"]
        for s in self.samples:
            cells = "".join(f"{s.undelivered[name]:>9}" for name in OUTBOXES)
            mark = "" if s.at < end else "  after"
            lines.append(f"{s.at:6.1f}s {cells}{s.storms:>9}{s.proposals:>11}{mark}")
        return "\n".join(lines)


async def until_delivered(admin_url: str, upto: dict[str, int], limit_s: float = 120.0) -> float:
    """Waits until every outbox row up to `upto` is delivered; returns the seconds it took."""
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        while (await sample(conn, 0.0, upto)).storms:
            if time.perf_counter() - started > limit_s:
                raise RuntimeError(f"outbox rows not delivered after {limit_s:.0f} s")
            await asyncio.sleep(0.25)
    return time.perf_counter() - started


LAG = """
SELECT count(*), count(lag), percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag)
  FROM (SELECT extract(epoch FROM r.recorded_at - o.created_at) AS lag
          FROM {schema}.outbox o LEFT JOIN audit.records r ON r.event_id = o.event_id
         WHERE o.id > %s AND o.id <= %s) AS rows
"""


@dataclass(frozen=True)
class Lag:
    rows: int
    recorded: int
    p50_s: float
    p99_s: float
    max_s: float

    def describe(self) -> str:
        return (
            f"{self.recorded}/{self.rows} recorded, lag p50 {self.p50_s:.2f} s,"
            f" p99 {self.p99_s:.2f} s, max {self.max_s:.2f} s"
        )


async def lag(admin_url: str, schema: str, after_id: int, upto_id: int) -> Lag:
    """From an outbox row's created_at (its transaction's start, so at or before its commit:
    the lag is overstated by the writing transaction's length) to its audit record's
    recorded_at (the sequencer's transaction), for the rows after_id < id <= upto_id."""
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        query = LAG.format(schema=schema)
        row = await (await conn.execute(query, (after_id, upto_id))).fetchone()
    assert row is not None
    return Lag(int(row[0]), int(row[1]), *(float(v or 0.0) for v in row[2:5]))


async def last_ids(admin_url: str) -> dict[str, int]:
    """The highest outbox id of each service: the boundary of a phase's rows."""
    query = " UNION ALL ".join(
        f"SELECT '{s}', coalesce(max(id), 0) FROM {s}.outbox" for s in OUTBOXES
    )
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        rows = await (await conn.execute(query)).fetchall()
    return {str(name): int(top) for name, top in rows}
