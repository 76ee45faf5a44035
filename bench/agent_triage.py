"""Benchmark: triage decisions per second, persisted with their decision records, through the
agent service's gRPC TriageBatch (a separate `python -m services.agent` process on a durable
PostgreSQL; 4 concurrent callers, batches of 500 distinct incidents, each creating an incident,
its decision record and two audit outbox rows in one transaction per batch), against plain
psycopg INSERTs of the very same rows (same columns, same indexes, one transaction per 500) on
the same server in the same run. Targets: >= 2,000 decisions/s and ratio >= 0.3.

The service runs as deployed. Its audit peer is a stand-in acknowledging every batch
(bench/_audit_sink.py), so the outbox relay does its whole work per batch (claim, send, mark
delivered) while the audit service's own cost stays out of the figure; ops and export are
unreachable: proposals to ops wait for the retry worker (its period set to an hour) and
compliance's scheduler is idle.

Usage: .venv/bin/python bench/agent_triage.py [--decisions N] (default 60,000)"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from _agent_rows import baseline_rows, insert_baseline, triage_batches
from _audit_sink import audit_sink
from _common import REPO, result, scratch
from _keys import BenchKeys
from _service import until_serving
from psycopg import Connection

from runtime.clients import bearer, open_channel
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import owner_url, provision, service_url
from tradeops.agent.v1 import agent_service_pb2 as pb

TARGET_RATE, TARGET_RATIO = 2_000, 0.3
BATCH, CALLERS = 500, 4
METHOD = "/tradeops.agent.v1.AgentService/TriageBatch"


@contextlib.contextmanager
def cluster(datadir: Path) -> Iterator[tuple[str, str]]:
    """(admin URL on database tradeops, agent URL) of a durable, migrated server."""
    server = LocalPostgres(datadir, durable=True)
    server.start()
    try:
        provision(server.url())
        agent_url = service_url(server.url(), "agent")
        upgrade("agent", owner_url(server.url(), "agent"))
        yield server.url(database="tradeops"), agent_url
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def agent_service(agent_url: str, work: Path, audit: str) -> AsyncIterator[tuple[str, str]]:
    """`python -m services.agent` until it reports SERVING; yields (address, service token)."""
    port, keys = free_port(), BenchKeys(work / "token-keys")
    closed = f"127.0.0.1:{free_port()}"  # nobody listens: these peers are unreachable
    env = {
        **os.environ,
        "TRADEOPS_AGENT_DATABASE_URL": agent_url,
        "TRADEOPS_GRPC_LISTEN": f"127.0.0.1:{port}",
        **keys.env(),
        "TRADEOPS_AUDIT_ADDR": audit,
        **{f"TRADEOPS_{peer}_ADDR": closed for peer in ("OPS", "EXPORT")},
        "TRADEOPS_AGENT_PROPOSAL_RETRY_S": "3600",
        "TRADEOPS_AGENT_COMPLIANCE_POLL_S": "3600",
        "TRADEOPS_AGENT_COMPLIANCE_INTERVAL_S": "86400",
    }
    log = work / "agent-service.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.agent", env=env, cwd=REPO,
        stdout=os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await until_serving(f"127.0.0.1:{port}", process, log, "agent")
        yield f"127.0.0.1:{port}", keys.service("agent")
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()


async def throughput(address: str, token: str, first: int, count: int) -> float:
    bodies = iter(triage_batches(first, count, BATCH))
    async with open_channel(address) as channel:
        send = channel.unary_unary(METHOD, None, None)  # bytes in, bytes out

        async def caller() -> None:
            for body in bodies:
                await send(body, metadata=bearer(token), timeout=120)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        return count / (time.perf_counter() - started)


async def check_reply(address: str, token: str) -> None:
    """One batch answered and decoded: every item has a decision with its record."""
    async with open_channel(address) as channel:
        send = channel.unary_unary(METHOD, None, pb.TriageBatchResponse.FromString)
        reply = await send(
            triage_batches(10**8, BATCH, BATCH)[0], metadata=bearer(token), timeout=120
        )
    decided = [i.decision for i in reply.items if i.decision.output_sha256 and i.decision.id]
    if len(decided) != BATCH:
        raise RuntimeError(f"expected {BATCH} decisions with records, got {len(decided)}")


def persisted(admin_url: str) -> int:
    with Connection.connect(admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM agent.decisions").fetchone()
        return int(row[0]) if row else 0


def run(admin_url: str, agent_url: str, work: Path, count: int) -> None:
    baseline = insert_baseline(admin_url, baseline_rows(count), BATCH)
    print(f"baseline: {baseline:,.0f} decisions/s (plain INSERTs of the same rows, {BATCH}/commit)")

    async def served() -> tuple[float, int]:
        async with (
            audit_sink() as (audit, sink),
            agent_service(agent_url, work, audit) as (address, token),
        ):
            await check_reply(address, token)  # also warms the service up
            return await throughput(address, token, 0, count), sink.events

    rate, audited = asyncio.run(served())
    stored = persisted(admin_url)
    print(f"service: {rate:,.0f} decisions/s through TriageBatch; {stored:,} decisions stored")
    print(f"audit stand-in acknowledged {audited:,} events while it ran")
    if stored != count + BATCH:
        raise RuntimeError(f"expected {count + BATCH} stored decisions, found {stored}")
    ok = rate >= TARGET_RATE and rate / baseline >= TARGET_RATIO
    result(
        "agent_triage", rate, "decisions/s", baseline, f">={TARGET_RATE}&ratio>={TARGET_RATIO}", ok
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decisions", type=int, default=60_000)
    count = parser.parse_args().decisions
    with scratch("agent-triage") as work, cluster(work / "pgdata") as (admin_url, agent_url):
        run(admin_url, agent_url, work, count)


if __name__ == "__main__":
    main()
