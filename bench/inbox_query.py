"""The console inbox's query with 1,000,000 actions, 100,000 of them pending: ListActions
awaiting_me with order DEADLINE, over gRPC to the real ops process, its first page and pages
deep in the list, against the plain ListActions first page (newest first, nothing filtered) as
the per-page floor; three trials, each kind of call in turn. The actions are seeded by
_seed_actions.py. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

from _common import result, scratch
from _ops_stack import System, closed_loop, p99, system
from _seed_actions import seed

from runtime.clients import bearer, open_channel
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

TARGET_MS = 50.0  # a console page has 300 ms at p99; the inbox's query gets a sixth of it
CALLERS = (("ops-001", "ops"), ("compliance-01", "compliance"))  # the first one is measured
RISK_ORDER = {pb.RISK_CRITICAL: 0, pb.RISK_HIGH: 1, pb.RISK_MEDIUM: 2, pb.RISK_LOW: 3}
DEPTHS = (0.25, 0.5, 0.75, 0.9)
List = Callable[..., Awaitable[pb.ListActionsResponse]]
Metadata = tuple[tuple[str, str], ...]


def inbox(page_size: int = 50, token: str = "") -> pb.ListActionsRequest:
    page = common_pb2.PageRequest(page_size=page_size, page_token=token)
    return pb.ListActionsRequest(awaiting_me=True, order=pb.ACTION_ORDER_DEADLINE, page=page)


def newest() -> pb.ListActionsRequest:
    return pb.ListActionsRequest(page=common_pb2.PageRequest(page_size=50))


def check(reply: pb.ListActionsResponse, subject: str) -> None:
    """A full page of pending actions the caller neither requested nor voted on, in order."""
    assert len(reply.actions) == 50, len(reply.actions)
    assert reply.next_page_token
    keys = [(a.expires_at.ToDatetime(), RISK_ORDER[a.risk], a.id) for a in reply.actions]
    assert keys == sorted(keys), "out of deadline order"
    for action in reply.actions:
        assert action.state == pb.ACTION_STATE_PENDING_APPROVAL
        current = [v.voter for v in action.votes if not v.voided]
        assert subject not in (action.requested_by, *current), action.id


async def depths(listing: List, metadata: Metadata) -> tuple[int, list[str]]:
    """The inbox's size, and the page tokens at DEPTHS of it (walked 500 at a time)."""
    tokens: list[tuple[int, str]] = []
    token, size = "", 0
    while True:
        reply = await listing(inbox(500, token), timeout=30, metadata=metadata)
        size += len(reply.actions)
        token = reply.next_page_token
        if not token:
            return size, [next(t for n, t in tokens if n >= d * size) for d in DEPTHS]
        tokens.append((size, token))


async def timed(
    listing: List, kinds: Sequence[Sequence[pb.ListActionsRequest]], calls: int, meta: Metadata
) -> list[list[float]]:
    """Milliseconds per call of each kind of request, `calls` of each, one caller, the kinds in
    turn (so a neighbour's burst falls on all of them alike); each inbox page checked."""
    took: list[list[float]] = [[] for _ in kinds]

    async def one(index: int) -> None:
        kind = index % len(kinds)
        request = kinds[kind][index // len(kinds) % len(kinds[kind])]
        began = time.perf_counter()
        reply = await listing(request, timeout=10, metadata=meta)
        took[kind].append((time.perf_counter() - began) * 1000)
        if request.awaiting_me:
            check(reply, CALLERS[0][0])

    await closed_loop(one, calls * len(kinds), 1)
    return took


def describe(name: str, took: list[float]) -> str:
    return f"{name} p50 {statistics.median(took):.1f} ms, p99 {p99(took):.1f} ms"


async def measure(sys_: System, calls: int, trials: int) -> bool:
    async with open_channel(sys_.stack.address("ops")) as channel:
        listing = pb_grpc.OpsServiceStub(channel).ListActions
        walked = []
        for subject, role in CALLERS:  # walking each inbox whole also warms caches and plans
            size, tokens = await depths(listing, bearer(sys_.token(subject, role)))
            walked.append((f"{subject} ({role}) {size:,}", tokens))
        print(f"inbox sizes: {', '.join(w[0] for w in walked)}", flush=True)
        me = bearer(sys_.token(*CALLERS[0]))
        kinds = [[newest()], [inbox()], [inbox(50, token) for token in walked[0][1]]]
        await timed(listing, kinds, 20, me)  # warm-up
        runs = []
        for trial in range(1, trials + 1):
            runs.append(await timed(listing, kinds, calls, me))
            lines = (describe(name, took) for name, took in zip(NAMES, runs[-1], strict=True))
            print(f"trial {trial}: {'; '.join(lines)}", flush=True)
    base, first, later = (statistics.median(p99(r[kind]) for r in runs) for kind in range(3))
    print(f"median of {trials} trials' p99: {base:.1f}, {first:.1f}, {later:.1f} ms", flush=True)
    target = f"<={TARGET_MS:.0f}ms"
    result("inbox_first_page_p99", first, "ms", base, target, first <= TARGET_MS)
    result("inbox_deep_page_p99", later, "ms", base, target, later <= TARGET_MS)
    return max(first, later) <= TARGET_MS


NAMES = ("plain first page", "inbox first page", "inbox deep pages")


async def run(sys_: System, args: argparse.Namespace) -> bool:
    seeded = await seed(sys_.admin_url, args.actions, args.pending)
    print(seeded.describe(), flush=True)
    return await measure(sys_, args.calls, args.trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300, help="of each kind, per trial")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with scratch("inbox") as home, system(home, gateway=False) as sys_:
        ok = asyncio.run(run(sys_, args))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
