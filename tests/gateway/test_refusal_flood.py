"""A flood of refused requests is a few audit records, not one each: a source's first refusal of
a route is recorded on its own, the rest of its window as one aggregated event with their count,
and the counts add up to every refusal. Values copied from the request are clipped."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import grpc

from runtime.clipping import MAX_TEXT_BYTES
from runtime.refusals import RefusalSettings
from tests.gateway.conftest import Gateway, running_gateway
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

Token = Callable[..., str]


def appended(gateway: Gateway) -> list[audit_pb.AuditEvent]:
    return list(gateway.recorder.appended)


def refusals_counted(events: list[audit_pb.AuditEvent]) -> int:
    """Every refusal an event stands for: one on its own, else the count in its payload."""
    total = 0
    for event in events:
        payload = json.loads(event.payload_json)
        if event.action == "gateway.access.denied":
            total += 1
        elif event.action == "gateway.access.denied.dropped":
            total += payload["dropped"]
        else:
            assert event.action in {
                "gateway.access.denied.aggregated",
                "gateway.access.denied.overflow",
            }
            total += payload["count"]
    return total


async def flood(
    gateway: Gateway, count: int, headers: Callable[[int], dict[str, str]], method: str = "GET"
) -> None:
    """`count` refused requests, 50 at a time: GET /incidents (401 for a bad token) or
    POST /probes (403 for a viewer)."""
    url = "/incidents" if method == "GET" else "/probes"
    for start in range(0, count, 50):
        replies = await asyncio.gather(
            *(
                gateway.client.request(method, url, headers=headers(n), json={})
                for n in range(start, min(start + 50, count))
            )
        )
        assert {reply.status_code for reply in replies} == {401 if method == "GET" else 403}


async def until_counted(gateway: Gateway, count: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while refusals_counted(appended(gateway)) < count:
        assert time.monotonic() < deadline, refusals_counted(appended(gateway))
        await asyncio.sleep(0.05)


async def test_a_thousand_bad_tokens_from_one_address_are_two_records_counting_all(
    keys: Keys, token_for: Token
) -> None:
    async with running_gateway(keys) as gateway:  # the default 60 s window
        await flood(gateway, 1000, lambda n: {"Authorization": f"Bearer bad-{n}"})
    # Stopping the gateway records the window still open.

    events = appended(gateway)
    assert [e.action for e in events] == [
        "gateway.access.denied",
        "gateway.access.denied.aggregated",
    ]
    assert refusals_counted(events) == 1000
    aggregated = json.loads(events[1].payload_json)
    assert aggregated["source"] == "peer:127.0.0.1"
    assert aggregated["count"] == 999
    assert aggregated["window_s"] == 60.0
    assert aggregated["targets"] == ["route GET /incidents"]
    assert aggregated["reasons"] == ["invalid token: Not enough segments"]
    assert aggregated["first_at"] <= aggregated["last_at"]
    assert events[1].actor.subject == "anonymous"
    assert events[1].outcome == "denied"


async def test_windows_close_while_serving_and_a_flood_never_waits_for_audit(
    keys: Keys, token_for: Token
) -> None:
    settings = RefusalSettings(window_s=0.5)
    async with running_gateway(keys, refusals=settings) as gateway:
        gateway.recorder.failures["AppendEvents"] = (grpc.StatusCode.UNAVAILABLE, "down")
        started = time.monotonic()
        await flood(gateway, 500, lambda n: gateway.auth("viewer", subject="mallory"), "POST")
        await flood(gateway, 500, lambda n: {"Authorization": f"Bearer bad-{n}"})
        flooded_s = time.monotonic() - started
        ok = await gateway.client.get("/incidents", headers=gateway.auth("viewer"))
        assert ok.status_code == 200
        del gateway.recorder.failures["AppendEvents"]
        await until_counted(gateway, 1000)
        events = appended(gateway)

    assert refusals_counted(events) == 1000
    windows = flooded_s / settings.window_s + 2
    # Per source and window: one on its own and one aggregate.
    assert len(events) <= 2 * 2 * windows, (len(events), flooded_s)
    sources = {json.loads(e.payload_json)["source"] for e in events if "aggregated" in e.action}
    assert sources == {"subject:mallory", "peer:127.0.0.1"}


async def test_sources_past_the_bound_are_counted_in_an_overflow_event(
    keys: Keys, token_for: Token
) -> None:
    settings = RefusalSettings(window_s=60.0, max_sources=3)
    async with running_gateway(keys, refusals=settings) as gateway:
        await flood(gateway, 100, lambda n: gateway.auth("viewer", subject=f"v{n % 10}"), "POST")
    events = appended(gateway)

    assert refusals_counted(events) == 100
    assert sorted(e.action.rsplit(".", 1)[1] for e in events) == [
        *["aggregated"] * 3,
        *["denied"] * 3,
        "overflow",
    ]
    (overflow,) = [e for e in events if e.action == "gateway.access.denied.overflow"]
    payload = json.loads(overflow.payload_json)
    assert payload["count"] == 70
    tracked = {json.loads(e.payload_json)["source"] for e in events if "aggregated" in e.action}
    assert len(tracked) == 3
    assert len(payload["sources"]) == 5  # listed up to five; the count is exact
    assert not tracked & set(payload["sources"])
    assert payload["max_sources"] == 3
    assert overflow.actor.subject == "gateway"


async def test_a_ten_kilobyte_subject_path_or_reason_is_clipped_in_the_record(
    keys: Keys, token_for: Token
) -> None:
    async with running_gateway(keys) as gateway:
        refused = await gateway.client.post(
            "/probes", json={}, headers=gateway.auth("viewer", subject="m" * 10_000)
        )
        assert refused.status_code == 403
        long = "/\x1b[31m" + "x" * 10_000 + "\n"
        reason = "invalid token: unknown signing key '" + "k" * 10_000 + "'"
        gateway.app.state.refusals.report(None, "GET", long, 401, reason, "10.0.0.9")
        await until_counted(gateway, 2)
    subject, anonymous = appended(gateway)

    assert subject.actor.subject.startswith("m" * 200)
    assert subject.actor.subject.endswith(" bytes)")
    assert len(subject.actor.subject.encode()) <= MAX_TEXT_BYTES
    payload = json.loads(anonymous.payload_json)
    for value in (payload["path"], payload["reason"], anonymous.target):
        assert len(value.encode()) <= MAX_TEXT_BYTES
        assert value.isprintable()
        assert "…(+" in value
    assert payload["path"].startswith("/[31mxxx")
    assert payload["reason"].startswith("invalid token: unknown signing key 'kkk")
