"""Notifications delivered to a local HTTP server standing in for Slack, Teams and a JSON hook;
the test checks every signature itself, with the shared secret."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.db import Database
from runtime.egress import DEFAULT
from services.ops import settings
from services.ops.repository import notifications
from services.ops.settings import Webhook, WebhookConfigError
from services.ops.workers.notifications import Delivery
from tests.ops import webhook_receiver
from tests.ops.test_timers_support import FakeClock, governed_kind, ladder, propose, tick
from tests.ops.webhook_receiver import SECRET, Received, Receiver, serving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as state:
        yield state


def _hooks(receiver: Receiver, tmp_path: Path) -> dict[str, Webhook]:
    return webhook_receiver.hooks(receiver.url, tmp_path, DEFAULT)


def _event() -> dict[str, Any]:
    return {
        "event": "ops.action.escalated",
        "action_id": str(uuid.uuid4()),
        "kind": "failover_market_data_feed",
        "risk": "HIGH",
        "escalation_level": 2,
        "text": "failover_market_data_feed (HIGH risk) escalated to level 2",
    }


async def _deliver(db: Database, hooks: dict[str, Webhook], clock: FakeClock) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        await Delivery(db, hooks, egress=DEFAULT, clock=clock).deliver_once(client)


async def _enqueue(db: Database, destinations: list[str], clock: FakeClock) -> dict[str, Any]:
    event = _event()
    async with db.transaction() as session:
        await notifications.enqueue(session, destinations, event, clock())
    return event


def _about(receiver: Receiver, event: dict[str, Any]) -> list[Received]:
    """What reached the receiver about this event (other tests may have left work behind)."""
    return [r for r in receiver.received if event["action_id"].encode() in r.body]


async def test_slack_teams_and_json_hooks_receive_signed_bodies_in_their_own_shape(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock = FakeClock()
    event = await _enqueue(ops_db, ["slack-ops", "teams-risk", "raw"], clock)

    await _deliver(ops_db, _hooks(receiver, tmp_path), clock)

    by_path = {r.path: r for r in _about(receiver, event)}
    assert sorted(by_path) == ["/raw", "/slack-ops", "/teams-risk"]
    assert all(r.signed_correctly() for r in by_path.values())
    assert not by_path["/raw"].signed_correctly("another-secret")
    slack = by_path["/slack-ops"].json()
    assert slack["text"] == event["text"]
    assert slack["blocks"][0]["type"] == "section"
    teams = by_path["/teams-risk"].json()
    assert teams["type"] == "message"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["body"][0]["text"] == event["text"]
    assert by_path["/raw"].json() == event
    stamp = int(by_path["/raw"].headers["X-Tradeops-Timestamp"])
    assert stamp == int(clock().timestamp())


async def test_a_failed_delivery_is_retried_later_and_then_delivered(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock, hooks = FakeClock(), _hooks(receiver, tmp_path)
    event = await _enqueue(ops_db, ["slack-ops"], clock)
    receiver.fail_once = {event["action_id"]}

    await _deliver(ops_db, hooks, clock)
    assert len(_about(receiver, event)) == 1
    await _deliver(ops_db, hooks, clock)  # the backoff has not passed yet
    assert len(_about(receiver, event)) == 1
    clock.advance(2)  # past the first backoff (at most 1 s, jittered)
    await _deliver(ops_db, hooks, clock)
    clock.advance(60)
    await _deliver(ops_db, hooks, clock)  # delivered once: never sent again

    attempts = _about(receiver, event)
    assert [r.path for r in attempts] == ["/slack-ops", "/slack-ops"]
    assert all(r.signed_correctly() for r in attempts)


async def test_an_escalation_reaches_its_slack_channel(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock = FakeClock()
    kind = await governed_kind(ops_db, ladder("to-slack"), clock())
    action = await propose(ops_db, kind, clock())
    await tick(ops_db, clock, 300)

    await _deliver(ops_db, _hooks(receiver, tmp_path), clock)

    (message,) = [r for r in receiver.received if action.id in r.body.decode()]
    assert message.path == "/slack-ops"
    assert message.signed_correctly()
    assert "escalated to level 1" in message.json()["text"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"name": "x"}', "JSON list"),
        ('[{"name": "x", "url": "http://h", "format": "slack"}]', "secret_file"),
        ('[{"name": "x", "url": "http://h", "format": "xml", "secret_file": "f"}]', "format"),
        ('[{"name": "x", "url": "ftp://h", "format": "json", "secret_file": "f"}]', "url"),
        ('[{"name": "x", "url": "http://h", "format": "json", "secret_file": "/nope"}]', "/nope"),
    ],
)
def test_a_malformed_webhook_configuration_is_a_clear_error(config: str, message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message):
        settings.webhooks_from_env({settings.ENV: config}, DEFAULT)


def test_a_webhook_secret_never_shows_in_its_repr(receiver: Receiver, tmp_path: Path) -> None:
    hooks = _hooks(receiver, tmp_path)
    assert SECRET not in repr(hooks)
    assert SECRET in hooks["raw"].secret
