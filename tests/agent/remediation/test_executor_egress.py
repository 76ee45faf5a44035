"""Webhook executors under the egress policy (TRADEOPS_EGRESS_ALLOW): a URL (or a per-kind URL)
at a cloud metadata address stops the agent at start unless listed, and a host resolving to one
fails the action at once, with nothing sent."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from runtime import egress
from runtime.egress import Address, parse
from services.agent.remediation.clients.executors import ExecutorConfigError, load
from services.agent.remediation.clients.webhook import WebhookExecutor
from services.agent.remediation.domain.executions import FAILED
from tests.agent.remediation.test_executors import REQUEST

METADATA = ["169.254.169.254", "100.100.100.200"]


def config(tmp_path: Path, url: str, kind_url: str = "http://127.0.0.1:9/x") -> str:
    (tmp_path / "secret").write_text("s3cret")
    hook = {"name": "oms", "type": "webhook", "url": url, "secret_file": str(tmp_path / "secret")}
    return json.dumps({"executors": [{**hook, "urls": {"halt": kind_url}}], "default": "oms"})


@pytest.mark.parametrize("address", METADATA)
def test_a_webhook_at_a_metadata_address_is_refused_at_start_naming_the_setting(
    tmp_path: Path, address: str
) -> None:
    for text in (
        config(tmp_path, f"http://{address}/x"),
        config(tmp_path, "http://127.0.0.1/x", f"http://{address}/y"),
    ):
        with pytest.raises(ExecutorConfigError, match=r"executors\[0\].*TRADEOPS_EGRESS_ALLOW"):
            load(text)
        assert load(text, parse(f"{address}, 127.0.0.1")).for_kind("halt") is not None
    assert load(config(tmp_path, "http://127.0.0.1:9/x")).for_kind("halt") is not None


async def test_a_host_resolving_to_a_metadata_address_fails_at_once_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str) -> list[Address]:
        return [ip_address("100.100.100.200")]

    monkeypatch.setattr(egress, "resolve", resolve)
    executor = WebhookExecutor("oms", "http://oms.example/x", "s3cret", retries=3)
    result = await executor.execute(REQUEST)
    assert result.outcome == FAILED
    assert len(result.attempts) == 1
    assert "oms.example (100.100.100.200) is not allowed by TRADEOPS_EGRESS_ALLOW" in result.detail
