"""ListIncidents a page at a time and ListDecisions of one incident, through the real servicer."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import insert

from runtime.clients import bearer
from runtime.db import Database
from services.agent.triage.tables import incidents
from tests.agent.served import Agent, agent
from tradeops.agent.v1 import agent_service_pb2 as pb
from tradeops.common.v1 import common_pb2

__all__ = ["agent"]
Tokens = Callable[..., str]
START = datetime(2026, 3, 1, tzinfo=UTC)


async def plant(db: Database, count: int) -> list[str]:
    """Stores `count` incidents, three to a creation time so pages must break ties by id;
    returns their ids newest first, ties by id."""
    rows: list[dict[str, Any]] = [
        {
            "id": str(uuid.uuid4()),
            "source": "planted",
            "kind": "stale_price",
            "desk": "eq-cash",
            "subject": f"S{n}",
            "summary": "",
            "metrics": {},
            "observed_at": START,
            "created_at": START + timedelta(seconds=n // 3),
            "created_by": "alice",
        }
        for n in range(count)
    ]
    async with db.transaction() as session:
        await session.execute(insert(incidents), rows)
    ordered = sorted(rows, key=lambda r: (-r["created_at"].timestamp(), r["id"]))
    return [r["id"] for r in ordered]


def page(size: int, token: str = "") -> pb.ListIncidentsRequest:
    return pb.ListIncidentsRequest(page=common_pb2.PageRequest(page_size=size, page_token=token))


async def read_all(
    agent: Agent, viewer: tuple[tuple[str, str], ...]
) -> tuple[list[str], list[int]]:
    ids, sizes, token = [], [], ""
    while True:
        reply = await agent.stub.ListIncidents(page(500, token), metadata=viewer, timeout=10)
        ids += [i.id for i in reply.incidents]
        sizes.append(len(reply.incidents))
        token = reply.next_page_token
        if not token:
            return ids, sizes


async def test_every_incident_comes_once_in_order_in_pages_of_500(
    agent: Agent, agent_db: Database, token_for: Tokens
) -> None:
    planted = await plant(agent_db, 1203)
    ids, sizes = await read_all(agent, bearer(token_for("vera", "viewer")))
    assert sizes == [500, 500, 203]
    assert ids == planted


async def test_the_deprecated_limit_still_gives_the_newest_and_a_next_token(
    agent: Agent, agent_db: Database, token_for: Tokens
) -> None:
    planted = await plant(agent_db, 7)
    viewer = bearer(token_for("vera", "viewer"))
    reply = await agent.stub.ListIncidents(pb.ListIncidentsRequest(limit=5), metadata=viewer)
    assert [i.id for i in reply.incidents] == planted[:5]
    rest = await agent.stub.ListIncidents(page(5, reply.next_page_token), metadata=viewer)
    assert ([i.id for i in rest.incidents], rest.next_page_token) == (planted[5:], "")


async def test_created_after_and_before_bound_the_listing(
    agent: Agent, agent_db: Database, token_for: Tokens
) -> None:
    planted = await plant(agent_db, 9)  # three each at START, START+1s, START+2s
    request = page(50)
    request.created_after.FromDatetime(START + timedelta(seconds=1))
    request.created_before.FromDatetime(START + timedelta(seconds=2))
    reply = await agent.stub.ListIncidents(request, metadata=bearer(token_for("vera", "viewer")))
    assert [i.id for i in reply.incidents] == planted[3:6]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        base64.urlsafe_b64encode(b'["2026-03-01T00:00:00", "x"]').decode(),  # naive, no uuid
        base64.urlsafe_b64encode(b'{"at": 1}').decode(),
    ],
)
async def test_a_forged_or_tampered_token_is_refused(
    agent: Agent, token_for: Tokens, token: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await agent.stub.ListIncidents(
            page(10, token), metadata=bearer(token_for("vera", "viewer"))
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (refused.value.details() or "")


def report(latency_ms: float) -> pb.CreateIncidentRequest:
    return pb.CreateIncidentRequest(
        source="md-gateway-ny4",
        kind="market_data_latency",
        desk="eq-cash",
        subject="XNAS-ITCH",
        summary="ITCH feed lagging",
        metrics={"latency_ms": latency_ms},
    )


async def test_list_decisions_holds_every_triage_of_an_incident_even_one_that_proposed_nothing(
    agent: Agent, token_for: Tokens
) -> None:
    alice, viewer = bearer(token_for("alice", "ops")), bearer(token_for("vera", "viewer"))
    quiet = await agent.stub.CreateIncident(report(1), metadata=alice, timeout=5)
    first = await agent.stub.TriageIncident(
        pb.TriageIncidentRequest(incident_id=quiet.id), metadata=alice, timeout=5
    )
    second = await agent.stub.TriageIncident(
        pb.TriageIncidentRequest(incident_id=quiet.id), metadata=alice, timeout=5
    )
    assert (first.recommended_action, first.action_id) == ("", "")  # proposed nothing

    listed = await agent.stub.ListDecisions(
        pb.ListDecisionsRequest(incident_id=quiet.id), metadata=viewer, timeout=5
    )
    assert sorted(d.id for d in listed.decisions) == sorted([first.id, second.id])
    assert {d.id: d for d in listed.decisions}[first.id] == first
    assert listed.next_page_token == ""
    one = await agent.stub.ListDecisions(
        pb.ListDecisionsRequest(incident_id=quiet.id, page=common_pb2.PageRequest(page_size=1)),
        metadata=viewer,
    )
    rest = await agent.stub.ListDecisions(
        pb.ListDecisionsRequest(
            incident_id=quiet.id,
            page=common_pb2.PageRequest(page_size=1, page_token=one.next_page_token),
        ),
        metadata=viewer,
    )
    assert [d.id for d in [*one.decisions, *rest.decisions]] == [d.id for d in listed.decisions]
    assert rest.next_page_token == ""


@pytest.mark.parametrize(
    ("incident_id", "code"),
    [
        (str(uuid.uuid4()), grpc.StatusCode.NOT_FOUND),
        ("not-an-id", grpc.StatusCode.NOT_FOUND),
        ("", grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_list_decisions_of_an_unknown_or_missing_incident_is_refused(
    agent: Agent, token_for: Tokens, incident_id: str, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await agent.stub.ListDecisions(
            pb.ListDecisionsRequest(incident_id=incident_id),
            metadata=bearer(token_for("vera", "viewer")),
        )
    assert refused.value.code() is code
