"""The console's live feed on the whole system: a vote through the gateway is committed by ops,
carried by its outbox relay to the audit log, and reaches the feed's frames
(gateway.console.live.action_events, as the console's route would serve them) within about two
seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gateway.console.live import action_events
from gateway.peers import Peers
from runtime.clients import bearer
from runtime.stack import Stack
from tests.e2e.test_seed_flow import triaged_action
from tests.gateway.console.sse import Frame, Reader

Headers = Callable[..., dict[str, str]]
Tokens = Callable[..., str]
SOON_S = 2.0
VOTES = ("ops.action.vote_recorded", "ops.action.approved")


async def never() -> bool:
    return False


@pytest.fixture
async def peers(stack: Stack) -> AsyncIterator[Peers]:
    """The peers a gateway of this stack opens."""
    opened = Peers.open({svc: stack.address(svc) for svc in ("agent", "ops", "audit", "export")})
    yield opened
    await opened.close()


async def test_a_vote_through_the_gateway_reaches_the_live_feed_within_two_seconds(
    api: httpx.Client, auth_header: Headers, token_for: Tokens, peers: Peers
) -> None:
    _, decision = await asyncio.to_thread(triaged_action, api, auth_header("olga", "ops"))
    action_id = decision["action_id"]
    reader = Reader(action_events(peers, bearer(token_for("vera", "viewer")), never))
    await reader.until("resync")
    approve = f"/agent/ops/actions/{action_id}/approve"

    voting = time.monotonic()
    voted = await asyncio.to_thread(api.post, approve, json={}, headers=auth_header("bob", "ops"))
    frame = await reader.until_match(lambda f: _vote_on(f, action_id), within=10)
    took = time.monotonic() - voting

    assert voted.status_code == 200, voted.text
    assert took < SOON_S
    assert frame.json()["event"] in VOTES
    assert isinstance(frame.json()["seq"], int)


def _vote_on(frame: Frame, action_id: str) -> bool:
    return (
        frame.kind == "action"
        and frame.json()["action_id"] == action_id
        and (frame.json()["event"] in VOTES)
    )
