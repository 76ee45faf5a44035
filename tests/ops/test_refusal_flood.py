"""A flood of calls the ops guard refuses (a bad token, a role that may not call) is a few
outbox events per source, not one each, and their counts add up to every refusal. What the
events copy from the call is clipped."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from runtime.auth import TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.clipping import MAX_TEXT_BYTES
from runtime.db import Database
from runtime.grpc_server import Running, start
from runtime.outbox import refusal_recorder
from runtime.refusals import RefusalSettings
from runtime.settings import AuthSettings
from services.ops.grpc_api.servicer import spec
from services.ops.tables import outbox
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

Token = Callable[..., str]
PUT_POLICY = "rpc/tradeops.ops.v1.OpsService/PutEscalationPolicy"


@asynccontextmanager
async def serving(
    db: Database, auth: AuthSettings, settings: RefusalSettings
) -> AsyncIterator[tuple[Running, pb_grpc.OpsServiceAsyncStub]]:
    recorder = refusal_recorder(db, outbox, "ops", settings=settings)
    served = dataclasses.replace(spec(db, lambda: None), on_refused=recorder)
    running = await start(served, "127.0.0.1:0", TokenVerifier(auth))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield running, pb_grpc.OpsServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)


async def refused(
    stub: pb_grpc.OpsServiceAsyncStub, count: int, token: Callable[[int], str]
) -> None:
    """`count` PutEscalationPolicy calls (admin only), 50 at a time, each of which the guard
    must refuse."""

    async def call(n: int) -> grpc.StatusCode:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.PutEscalationPolicy(
                pb.PutEscalationPolicyRequest(), metadata=bearer(token(n)), timeout=10
            )
        return caught.value.code()

    for first in range(0, count, 50):
        codes = await asyncio.gather(*(call(n) for n in range(first, min(first + 50, count))))
        assert set(codes) <= {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


async def denied(db: Database) -> list[dict[str, Any]]:
    query = select(outbox.c.event).where(outbox.c.event["action"].astext.like("ops.access.%"))
    async with db.transaction() as session:
        return [row.event for row in (await session.execute(query.order_by(outbox.c.id))).all()]


def counted(events: list[dict[str, Any]]) -> dict[str, int]:
    """Refusals per actor: one for an event on its own, its count for an aggregate."""
    totals: dict[str, int] = {}
    for event in events:
        weight = 1
        if event["action"] != "ops.access.denied":
            weight = event_payload(event)["count"]
        subject = event["actor"]["subject"]
        totals[subject] = totals.get(subject, 0) + weight
    return totals


def event_payload(event: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(event["payload_json"])
    return payload


async def test_a_thousand_bad_tokens_and_a_thousand_wrong_roles_are_four_records(
    ops_db: Database, auth_settings: AuthSettings, token_for: Token
) -> None:
    async with serving(ops_db, auth_settings, RefusalSettings()) as (_, stub):
        await refused(stub, 1000, lambda n: f"bad-{n}")
        await refused(stub, 1000, lambda n: token_for("vera", "viewer"))
    # Stopping the service records the windows still open.

    events = await denied(ops_db)
    assert sorted(e["action"] for e in events) == [
        "ops.access.denied",
        "ops.access.denied",
        "ops.access.denied.aggregated",
        "ops.access.denied.aggregated",
    ]
    assert counted(events) == {"anonymous": 1000, "vera": 1000}
    by_source = {
        event_payload(e)["source"]: event_payload(e) for e in events if "aggregated" in e["action"]
    }
    assert set(by_source) == {"peer:127.0.0.1", "subject:vera"}
    assert by_source["subject:vera"]["targets"] == [PUT_POLICY]
    assert by_source["peer:127.0.0.1"]["count"] == 999
    assert {e["outcome"] for e in events} == {"denied"}


async def test_a_window_is_recorded_when_it_closes_while_serving(
    ops_db: Database, auth_settings: AuthSettings, token_for: Token
) -> None:
    async with serving(ops_db, auth_settings, RefusalSettings(window_s=0.3)) as (_, stub):
        await refused(stub, 100, lambda n: token_for("vera", "viewer"))
        deadline = time.monotonic() + 10
        while counted(await denied(ops_db)).get("vera", 0) < 100:
            assert time.monotonic() < deadline, counted(await denied(ops_db))
            await asyncio.sleep(0.05)
        events = await denied(ops_db)

    assert counted(events) == {"vera": 100}
    assert "ops.access.denied.aggregated" in {e["action"] for e in events}


async def test_a_ten_kilobyte_token_naming_a_long_subject_is_clipped_in_the_record(
    ops_db: Database, auth_settings: AuthSettings, token_for: Token
) -> None:
    token = token_for("m" * 7_500, "viewer")  # under the 16 KiB the service takes in metadata
    assert len(token) > 10_000
    async with serving(ops_db, auth_settings, RefusalSettings()) as (_, stub):
        await refused(stub, 1, lambda n: token)

    (event,) = await denied(ops_db)
    subject, reason = event["actor"]["subject"], event_payload(event)["reason"]
    for value in (subject, reason):
        assert len(value.encode()) <= MAX_TEXT_BYTES
        assert value.startswith("m" * 100)
        assert value.endswith(" bytes)")
