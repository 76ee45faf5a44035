"""A filtered first page of the action list with 100,000 pending actions: ListActions p99,
against GetAction p99 (one indexed row) as the per-call floor, over gRPC to the real ops process.

The actions are copied (COPY, as superuser) from one proposed through ProposeAction, so every
column, the policy snapshot included, is what the service itself writes. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from _common import result, scratch
from _ops_stack import System, closed_loop, p99, proposal, system

from runtime.clients import bearer, open_channel
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

KINDS = tuple(f"kind_{n}" for n in range(10))  # 10,000 pending actions of each kind


def populate(admin_url: str, template_id: str, count: int) -> list[str]:
    """COPYs `count` pending actions shaped like the template; returns their ids."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        buffer = io.StringIO()
        with conn.cursor().copy(
            "COPY (SELECT * FROM ops.actions WHERE id = %s) TO STDOUT", (template_id,)
        ) as copy:
            for chunk in copy:
                buffer.write(bytes(chunk).decode())
        described = conn.execute("SELECT * FROM ops.actions LIMIT 0").description or []
        columns = [c.name for c in described]
        template = buffer.getvalue().rstrip("\n").split("\t")
        at = {name: i for i, name in enumerate(columns)}
        start = datetime.now(UTC) - timedelta(hours=1)
        ids: list[str] = []
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ops.actions ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count):
                row = list(template)
                created = (start + timedelta(milliseconds=30 * n)).isoformat()
                ids.append(str(uuid.uuid4()))
                row[at["id"]] = ids[-1]
                row[at["kind"]] = KINDS[n % len(KINDS)]
                row[at["source_ref"]] = f"bench-list-{n}"
                row[at["created_at"]] = row[at["updated_at"]] = created
                row[at["expires_at"]] = (start + timedelta(days=2)).isoformat()
                copy.write("\t".join(row) + "\n")  # template fields stay COPY-escaped
        conn.execute("ANALYZE ops.actions")
    print(f"copied {count} pending actions in {time.perf_counter() - started:.1f}s", flush=True)
    return ids


async def template(sys_: System) -> str:
    metadata = bearer(sys_.token("svc:bench", "service"))
    async with open_channel(sys_.stack.address("ops")) as channel:
        stub = pb_grpc.OpsServiceStub(channel)
        action = await stub.ProposeAction(proposal(0), timeout=10, metadata=metadata)
    return action.id


async def measure(sys_: System, ids: list[str], calls: int, concurrency: int) -> bool:
    metadata = bearer(sys_.token("ops-bench", "ops"))
    async with open_channel(sys_.stack.address("ops")) as channel:
        stub = pb_grpc.OpsServiceStub(channel)
        page = common_pb2.PageRequest(page_size=50)
        pending = pb.ACTION_STATE_PENDING_APPROVAL
        list_ms: list[float] = []
        get_ms: list[float] = []
        picks = random.Random(7)

        async def listing(index: int) -> None:
            request = pb.ListActionsRequest(state=pending, kind=KINDS[index % 10], page=page)
            began = time.perf_counter()
            reply = await stub.ListActions(request, timeout=10, metadata=metadata)
            list_ms.append((time.perf_counter() - began) * 1000)
            assert len(reply.actions) == 50, len(reply.actions)
            assert reply.next_page_token

        async def getting(index: int) -> None:
            request = pb.GetActionRequest(id=picks.choice(ids))
            began = time.perf_counter()
            await stub.GetAction(request, timeout=10, metadata=metadata)
            get_ms.append((time.perf_counter() - began) * 1000)

        await closed_loop(listing, 50, concurrency)  # warm-up (plans, caches, connections)
        await closed_loop(getting, 50, concurrency)
        list_ms.clear()
        get_ms.clear()
        get_rate = await closed_loop(getting, calls, concurrency)
        list_rate = await closed_loop(listing, calls, concurrency)
    print(f"GetAction: {get_rate:.0f} calls/s, ListActions: {list_rate:.0f} calls/s", flush=True)
    ok = p99(list_ms) <= 50
    result("ops_list_first_page_p99", p99(list_ms), "ms", p99(get_ms), "<=50ms", ok)
    return ok


async def run(sys_: System, args: argparse.Namespace) -> bool:
    template_id = await template(sys_)
    ids = await asyncio.to_thread(populate, sys_.admin_url, template_id, args.actions)
    return await measure(sys_, ids, args.calls, args.concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    with scratch("ops-list") as home, system(home, gateway=False) as sys_:
        ok = asyncio.run(run(sys_, args))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
