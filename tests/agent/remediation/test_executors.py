"""The webhook executor against a local desk server, and TRADEOPS_AGENT_EXECUTORS."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.agent.remediation.clients.executors import ExecutorConfigError, load
from services.agent.remediation.clients.simulator import SimulatorExecutor
from services.agent.remediation.clients.webhook import WebhookExecutor
from services.agent.remediation.domain.executions import ExecutionRequest
from tests.agent.remediation.desk import SECRET, DeskServer, Reply

REQUEST = ExecutionRequest(
    "a-1", "restart_fix_session", {"session": "LSE-OE-02"}, "tradeops-action-a-1"
)


@pytest.fixture
def servers() -> Iterator[list[DeskServer]]:
    started: list[DeskServer] = []
    yield started
    for server in started:
        server.stop()


def hook(url: str, **options: Any) -> WebhookExecutor:
    settings: dict[str, Any] = {"timeout_s": 2, "retries": 2, "backoff_s": 0.01, **options}
    return WebhookExecutor(label="oms", url=url, secret=SECRET, **settings)


def desk(servers: list[DeskServer], *replies: Reply) -> DeskServer:
    servers.append(DeskServer(list(replies)))
    return servers[-1]


async def test_a_refusal_by_the_desk_fails_at_once(servers: list[DeskServer]) -> None:
    server = desk(servers, Reply(422, {"error": "unknown session"}))
    result = await hook(server.url).execute(REQUEST)
    assert result.outcome == "FAILED"
    assert result.detail == 'refused with HTTP 422: {"error": "unknown session"}'
    assert len(server.received) == 1


async def test_a_desk_nobody_listens_on_fails_after_every_retry() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await hook(f"http://127.0.0.1:{port}/x").execute(REQUEST)
    assert result.outcome == "FAILED"
    assert len(result.attempts) == 3
    assert all(a.error.startswith("ConnectError") for a in result.attempts)
    assert result.detail.startswith("gave up after 3 attempts: ConnectError")


async def test_a_desk_that_keeps_erroring_leaves_the_outcome_unknown(
    servers: list[DeskServer],
) -> None:
    server = desk(servers, Reply(500))
    result = await hook(server.url).execute(REQUEST)
    assert result.outcome == "OUTCOME_UNKNOWN"  # a 500 may have acted half-way
    assert [a.status_code for a in result.attempts] == [500, 500, 500]


async def test_a_desk_that_keeps_answering_503_is_a_failure(servers: list[DeskServer]) -> None:
    server = desk(servers, Reply(503))
    result = await hook(server.url).execute(REQUEST)
    assert result.outcome == "FAILED"
    assert result.detail == "gave up after 3 attempts: HTTP 503"


async def test_a_2xx_without_a_status_leaves_the_outcome_unknown(
    servers: list[DeskServer],
) -> None:
    server = desk(servers, Reply(202, {"accepted": True}))
    result = await hook(server.url).execute(REQUEST)
    assert result.outcome == "OUTCOME_UNKNOWN"
    assert result.detail == "HTTP 202 without a status of executed or failed"


async def test_an_action_kind_can_have_its_own_url(servers: list[DeskServer]) -> None:
    default = desk(servers, Reply(200, {"status": "executed"}))
    fix = desk(servers, Reply(200, {"status": "executed", "detail": "logon ok"}))
    executor = hook(default.url, urls={"restart_fix_session": fix.url})
    result = await executor.execute(REQUEST)
    assert (result.outcome, result.detail) == ("EXECUTED", "logon ok")
    assert (len(default.received), len(fix.received)) == (0, 1)


async def test_the_signature_is_over_the_timestamp_and_the_exact_body(
    servers: list[DeskServer],
) -> None:
    server = desk(servers, Reply(200, {"status": "executed"}))
    await hook(server.url, clock=lambda: 1767225600.0).execute(REQUEST)
    (received,) = server.received
    assert received.headers["X-Tradeops-Timestamp"] == "1767225600"
    assert received.signed_by(SECRET)
    assert json.loads(received.body) == {
        "action_id": "a-1",
        "idempotency_key": "tradeops-action-a-1",
        "kind": "restart_fix_session",
        "parameters": {"session": "LSE-OE-02"},
    }


def test_executors_are_read_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "oms.secret"
    secret.write_text(SECRET + "\n")
    config = {
        "default": "demo",
        "routes": {"restart_fix_session": "oms"},
        "executors": [
            {"name": "oms", "type": "webhook", "url": "https://oms.desk/hook",
             "secret_file": str(secret), "timeout_s": 3, "retries": 1},
            {"name": "demo", "type": "simulator", "fail_kinds": ["throttle_strategy"]},
        ],
    }  # fmt: skip
    executors = load(json.dumps(config))
    oms = executors.for_kind("restart_fix_session")
    assert isinstance(oms, WebhookExecutor)
    assert (oms.name, oms.secret, oms.timeout_s, oms.retries) == ("webhook:oms", SECRET, 3, 1)
    assert SECRET not in repr(oms)
    demo = executors.for_kind("throttle_strategy")
    assert isinstance(demo, SimulatorExecutor)
    assert demo.fail_kinds == frozenset({"throttle_strategy"})


def test_without_configuration_nothing_is_executed_automatically() -> None:
    executors = load("")
    assert executors.for_kind("failover_market_data_feed") is None
    assert executors.by_name == {}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"default": "ghost"}', "routes to unknown executors"),
        ('{"executors": [{"name": "x", "type": "ftp"}]}', "type must be webhook or simulator"),
        (
            '{"executors": [{"name": "x", "type": "webhook", "url": "https://a/b", '
            '"secret_file": "/no/such/file"}]}',
            "cannot read secret_file",
        ),
    ],
)
def test_a_malformed_configuration_stops_the_service(config: str, message: str) -> None:
    with pytest.raises(ExecutorConfigError, match=message):
        load(config)
