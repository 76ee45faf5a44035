"""The console's live feed (gateway.console.live) against real audit processes: the frames are
server-sent events a browser reads, an ops action event becomes an `action` frame and nothing
else does, keepalives fill the silences, audit restarted (stopped, then killed) is reached again
and the feed resumes after the last seq it heard with no resync, a refused caller is told why,
and the frames end when the browser leaves."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import time
import uuid
from collections.abc import Callable

from gateway.console.live import Timing, action_events, relayed
from gateway.peers import Peers
from runtime.backoff import Backoff
from runtime.clients import bearer, open_channel
from runtime.stack import Stack
from tests.audit.watch.conftest import append, ops_event
from tests.gateway.console.sse import Reader, parse
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1.audit_service_pb2_grpc import AuditServiceStub as AuditStub

Tokens = Callable[..., str]
FAST = Timing(
    keepalive_s=0.3, stale_s=5.0, poll_s=0.1, retry_ms=1500, reconnect=Backoff(0.05, cap_s=0.5)
)
# Tries again every second: a record appended at once when audit is back is usually missed
# by the stream then open, and read by the next.
PATIENT = dataclasses.replace(FAST, reconnect=Backoff(1.0, cap_s=1.0, floor=1.0))
WAIT_S = 20.0


async def never() -> bool:
    return False


async def test_an_ops_action_event_is_an_action_frame_after_a_retry_hint_and_a_resync(
    peers: Peers, token_for: Tokens
) -> None:
    reader = Reader(action_events(peers, bearer(token_for("vic", "viewer")), never, FAST))
    opened = await reader.until("resync")
    action_id = str(uuid.uuid4())
    await append(peers.audit, token_for, ops_event(f"incident/{action_id}"))  # not an action
    await append(peers.audit, token_for, ops_event(f"action/{action_id}", "ops.policy.changed"))
    [seq] = await append(peers.audit, token_for, ops_event(f"action/{action_id}"))
    event = await reader.until("action")
    await reader.until("keepalive")

    assert reader.kinds()[:2] == ["retry", "resync"]
    assert reader.read[0].retry == 1500
    assert opened.json()["seq"] < seq
    assert event.json() == {"action_id": action_id, "event": "ops.action.approved", "seq": seq}
    assert reader.kinds().count("action") == 1


def test_only_the_ops_services_own_records_and_audits_resyncs_become_frames() -> None:
    record = pb.AuditRecord(seq=7, event=ops_event("action/a1"))
    faked = pb.AuditRecord(seq=8, event=ops_event("action/a1"))
    faked.event.source = "md"  # a desk system's key may name any action, never source ops
    notices = [
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_RECORD, record=record, through_seq=7), False),
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_RECORD, record=faked, through_seq=8), False),
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_RESYNC, through_seq=9), False),
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_STARTED, through_seq=9), True),
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_STARTED, through_seq=9), False),
        (pb.RecordNotice(type=pb.RecordNotice.TYPE_HEARTBEAT, through_seq=9), False),
    ]
    frames = [relayed(notice, opening) for notice, opening in notices]

    assert [None if f is None else parse(f).kind for f in frames] == [
        "action",
        None,
        "resync",
        "resync",
        None,
        None,
    ]
    assert frames[0] is not None
    assert parse(frames[0]).json() == {"action_id": "a1", "event": "ops.action.approved", "seq": 7}


async def test_after_audit_restarts_the_feed_resumes_after_the_last_seq_with_no_resync(
    audit: Stack, peers: Peers, token_for: Tokens
) -> None:
    reader_name = f"vic-{uuid.uuid4()}"
    viewer = bearer(token_for(reader_name, "viewer"))
    reader = Reader(action_events(peers, viewer, never, PATIENT))
    await reader.until("resync")
    seen = []
    for how in (signal.SIGTERM, signal.SIGKILL):  # a graceful stop (OK), then a crash
        for name in audit.replicas("audit"):
            audit.stop_one(name, how)
        await reader.until("keepalive")  # the line stays open while audit is away
        await asyncio.to_thread(audit.start_one, "audit-1")
        # Appended as soon as audit-1 is back, most likely before the feed's next try: the
        # stream that try opens reads it as one it missed.
        async with open_channel(audit.replicas("audit")["audit-1"]) as channel:
            action_id = str(uuid.uuid4())
            await append(AuditStub(channel), token_for, ops_event(f"action/{action_id}"))
        await asyncio.to_thread(audit.start_one, "audit-2")
        seen.append((action_id, (await reader.until("action")).json()["action_id"]))

    assert [mine for mine, _ in seen] == [theirs for _, theirs in seen]
    assert reader.kinds().count("resync") == 1  # the opening one only
    opens = await _watches_opened_by(peers, token_for, reader_name)
    # The read of the stream the crash cut may be lost with it (reads are queued, not waited
    # for): the opening one and the one after the crash are in the log.
    assert opens[0] is None  # from now on
    assert len(opens) >= 2
    assert None not in opens[1:]  # every reconnection resumed from a seq


async def _watches_opened_by(peers: Peers, token_for: Tokens, subject: str) -> list[int | None]:
    """The after_seq of every WatchRecords the subject opened, from the log's audited reads."""
    asked = pb.ListRecordsRequest(after_seq=-1, limit=500, actor=subject)
    asked.action = "audit.records.watched"
    admin = bearer(token_for("ada", "admin"))
    deadline = time.monotonic() + WAIT_S
    while True:  # the reads are queued for the next commit; an append makes one
        await append(peers.audit, token_for, ops_event("incident/flush"))
        found = await peers.audit.ListRecords(asked, metadata=admin, timeout=5)
        opens = [json.loads(r.event.payload_json)["after_seq"] for r in found.records]
        if len(opens) >= 2 or time.monotonic() > deadline:
            return opens
        await asyncio.sleep(0.2)


async def test_a_caller_audit_refuses_is_told_why_and_the_frames_end(
    peers: Peers, token_for: Tokens
) -> None:
    callers = {"nope": bearer("nope"), "nora": bearer(token_for("nora"))}
    codes = {}
    for who, metadata in callers.items():
        frames = [parse(chunk) async for chunk in action_events(peers, metadata, never, FAST)]
        assert [frame.kind for frame in frames] == ["retry", "error"]
        codes[who] = frames[1].json()["error"]["code"]

    assert codes == {"nope": "UNAUTHENTICATED", "nora": "PERMISSION_DENIED"}


async def test_the_frames_end_soon_after_the_browser_leaves(
    peers: Peers, token_for: Tokens
) -> None:
    left = asyncio.Event()

    async def disconnected() -> bool:
        return left.is_set()

    reader = Reader(action_events(peers, bearer(token_for("vic", "viewer")), disconnected, FAST))
    await reader.until("resync")
    left.set()
    leaving = time.monotonic()
    rest = [chunk async for chunk in reader.frames]

    assert time.monotonic() - leaving < 1.0
    assert all(parse(chunk).kind == "keepalive" for chunk in rest)
