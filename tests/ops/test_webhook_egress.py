"""Ops notifications under the egress policy (TRADEOPS_EGRESS_ALLOW): a webhook the policy can
never allow stops ops at start; one whose host resolves outside it is given up at once, with no
request made and the reason on the action's timeline and in the audit log; a redirect is not
followed; a host that does not resolve is retried."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from runtime.db import Database
from runtime.settings import (
    AuthSettings,
    ServiceSettings,
    SettingsError,
    egress_policy,
    peer_addresses,
)
from services.ops import settings
from services.ops.__main__ import build
from services.ops.domain.actions import TimelineEntry
from services.ops.repository import timeline
from services.ops.settings import WebhookConfigError
from services.ops.tables import notifications as queue
from services.ops.tables import outbox
from services.ops.workers.notifications import Delivery
from tests.ops.test_timers_support import FakeClock, governed_kind, ladder, propose, sent, tick
from tests.ops.webhook_receiver import Receiver, environment, serving

REFUSED = "is not allowed by TRADEOPS_EGRESS_ALLOW"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as state:
        yield state


def _settings(auth: AuthSettings, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        name="ops",
        database_url="postgresql://unused",
        listen="127.0.0.1:0",
        peers=peer_addresses({}),
        auth=auth,
        rpc_timeout_s=5,
        export_dir=tmp_path,
        outbox_poll_s=0.5,
    )


def _start_with(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    monkeypatch.delenv("TRADEOPS_EGRESS_ALLOW", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


async def _pass(db: Database, env: dict[str, str], clock: FakeClock, **client: Any) -> None:
    """One delivery pass, wired as ops wires it at start from `env`."""
    egress = egress_policy(env)
    delivery = Delivery(db, settings.webhooks_from_env(env, egress), egress=egress, clock=clock)
    async with httpx.AsyncClient(timeout=5, **client) as http:
        await delivery.deliver_once(http)


async def _escalated(db: Database, clock: FakeClock) -> str:
    """An action escalated to level 1, which notifies slack-ops; its id."""
    kind = await governed_kind(db, ladder(f"egress-{uuid.uuid4().hex[:8]}"), clock())
    action = await propose(db, kind, clock())
    await tick(db, clock, 300)
    assert [destination for destination, _ in await sent(db, action.id)] == ["slack-ops"]
    return action.id


async def _notes(db: Database, action_id: str) -> list[TimelineEntry]:
    async with db.transaction() as session:
        entries = await timeline.for_action(session, action_id)
    return [entry for entry in entries if entry.kind == "notification"]


async def _audited(db: Database, action_id: str) -> list[tuple[str, str]]:
    query = (
        select(outbox.c.event["action"].astext, outbox.c.event["outcome"].astext)
        .where(outbox.c.event["target"].astext == f"action/{action_id}")
        .order_by(outbox.c.id)
    )
    async with db.transaction() as session:
        return [(verb, outcome) for verb, outcome in (await session.execute(query)).all()]


async def _queued(db: Database, action_id: str) -> list[tuple[int, str | None]]:
    """(attempts, last_error) of the undelivered notifications about one action."""
    query = select(queue.c.attempts, queue.c.last_error).where(
        queue.c.body["action_id"].astext == action_id, queue.c.delivered_at.is_(None)
    )
    async with db.transaction() as session:
        return [(attempts, error) for attempts, error in (await session.execute(query)).all()]


async def test_a_webhook_at_cloud_metadata_stops_ops_at_start_naming_it_and_the_setting(
    ops_db: Database,
    serving: Callable[[str], AuthSettings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _start_with(monkeypatch, environment("http://169.254.169.254", tmp_path))

    with pytest.raises(WebhookConfigError) as refused:
        build(_settings(serving("ops"), tmp_path), ops_db)

    assert str(refused.value) == (
        f"TRADEOPS_OPS_WEBHOOKS[0] (slack-ops): url host 169.254.169.254 {REFUSED}"
    )


async def test_a_webhook_outside_a_listed_policy_stops_ops_at_start(
    ops_db: Database,
    serving: Callable[[str], AuthSettings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = environment("http://127.0.0.1:9", tmp_path, TRADEOPS_EGRESS_ALLOW="10.0.0.0/8")
    _start_with(monkeypatch, env)

    with pytest.raises(
        WebhookConfigError, match=rf"\[0\] \(slack-ops\): url host 127.0.0.1 {REFUSED}"
    ):
        build(_settings(serving("ops"), tmp_path), ops_db)


async def test_a_malformed_policy_stops_ops_at_start(
    ops_db: Database,
    serving: Callable[[str], AuthSettings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = environment("http://127.0.0.1:9", tmp_path, TRADEOPS_EGRESS_ALLOW="10.0.0.0/33")
    _start_with(monkeypatch, env)

    with pytest.raises(SettingsError, match=r"TRADEOPS_EGRESS_ALLOW entry '10\.0\.0\.0/33'"):
        build(_settings(serving("ops"), tmp_path), ops_db)


def test_a_webhook_the_policy_lists_is_accepted_at_start(tmp_path: Path) -> None:
    env = environment("http://169.254.169.254", tmp_path, TRADEOPS_EGRESS_ALLOW="169.254.0.0/16")

    hooks = settings.webhooks_from_env(env, egress_policy(env))

    assert hooks["raw"].url == "http://169.254.169.254/raw"


async def test_a_delivery_resolving_outside_the_policy_fails_for_good_without_a_request(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock = FakeClock()
    action_id = await _escalated(ops_db, clock)
    # A name is accepted at start (it might resolve into 10/8); it resolves to loopback.
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    env = environment(by_name, tmp_path, TRADEOPS_EGRESS_ALLOW="10.0.0.0/8")

    await _pass(ops_db, env, clock)
    clock.advance(3600)  # far past any backoff
    await _pass(ops_db, env, clock)

    assert receiver.received == []
    assert await _queued(ops_db, action_id) == []  # nothing left to retry
    [note] = await _notes(ops_db, action_id)
    reason = rf"webhook slack-ops: url host localhost \((127\.0\.0\.1|::1)\) {REFUSED}"
    assert re.fullmatch(
        f"Notification to slack-ops not sent, and never retried: {reason}", note.text
    )
    assert (note.actor, note.machine) == ("ops-notifications", True)
    assert note.details["attempts"] == 1
    assert re.fullmatch(reason, note.details["reason"])
    assert (await _audited(ops_db, action_id))[-1] == (
        "ops.action.notification_failed",
        "failure",
    )


async def test_a_delivery_inside_a_listed_policy_is_delivered_as_before(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock = FakeClock()
    action_id = await _escalated(ops_db, clock)
    env = environment(receiver.url, tmp_path, TRADEOPS_EGRESS_ALLOW="127.0.0.1")

    await _pass(ops_db, env, clock)

    [message] = receiver.received
    assert message.path == "/slack-ops"
    assert message.signed_correctly()
    assert action_id in message.body.decode()
    assert await _queued(ops_db, action_id) == []
    assert await _notes(ops_db, action_id) == []


async def test_a_redirect_is_not_followed_and_the_delivery_is_retried(
    ops_db: Database, receiver: Receiver, tmp_path: Path
) -> None:
    clock = FakeClock()
    action_id = await _escalated(ops_db, clock)
    receiver.redirect_to = "/elsewhere"

    # Even a client that follows redirects by default must not follow this one.
    await _pass(ops_db, environment(receiver.url, tmp_path), clock, follow_redirects=True)

    assert [r.path for r in receiver.received] == ["/slack-ops"]
    assert await _queued(ops_db, action_id) == [(1, "HTTP 307 (redirects are not followed)")]


async def test_a_host_that_does_not_resolve_is_retried(ops_db: Database, tmp_path: Path) -> None:
    clock = FakeClock()
    action_id = await _escalated(ops_db, clock)
    env = environment("http://no-such-host.invalid", tmp_path)

    await _pass(ops_db, env, clock)

    [(attempts, error)] = await _queued(ops_db, action_id)
    assert attempts == 1
    assert (error or "").startswith("cannot resolve url host no-such-host.invalid")
    assert await _notes(ops_db, action_id) == []
