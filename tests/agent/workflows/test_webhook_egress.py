"""Webhooks under the egress policy (TRADEOPS_EGRESS_ALLOW): a configured webhook the policy can
never allow stops the agent at start; one whose host resolves outside it fails its firing at
once, with the policy's reason and no request made; a redirect is not followed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from runtime.egress import parse
from runtime.settings import SettingsError
from services.agent.workflows.settings import Settings
from tests.agent.workflows.conftest import Harness
from tests.agent.workflows.helpers import rule_request
from tests.agent.workflows.test_firings import firings
from tradeops.agent.v1 import trigger_service_pb2 as pb


def environment(tmp_path: Path, url: str, **env: str) -> dict[str, str]:
    secret = tmp_path / "hook.secret"
    secret.write_text("webhook-test-secret-0123456789")
    hooks = [{"name": "desk-chat", "url": url, "secret_file": str(secret)}]
    return {"TRADEOPS_AGENT_WEBHOOKS": json.dumps(hooks), **env}


def test_a_webhook_at_cloud_metadata_stops_the_agent_naming_both_settings(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, "http://169.254.169.254/hook")

    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)

    assert str(refused.value) == (
        "TRADEOPS_AGENT_WEBHOOKS[0]: url host 169.254.169.254 is not allowed by "
        "TRADEOPS_EGRESS_ALLOW"
    )


def test_a_webhook_the_policy_lists_is_accepted(tmp_path: Path) -> None:
    env = environment(
        tmp_path, "http://169.254.169.254/hook", TRADEOPS_EGRESS_ALLOW="169.254.169.254"
    )

    assert Settings.from_env(env).webhooks["desk-chat"].url == "http://169.254.169.254/hook"


def test_a_malformed_policy_stops_the_agent(tmp_path: Path) -> None:
    env = environment(tmp_path, "http://127.0.0.1/hook", TRADEOPS_EGRESS_ALLOW="10.0.0.0/33")

    with pytest.raises(SettingsError, match=r"TRADEOPS_EGRESS_ALLOW entry '10\.0\.0\.0/33'"):
        Settings.from_env(env)


async def test_a_webhook_resolving_outside_the_policy_fails_at_once_without_a_request(
    harness: Harness,
) -> None:
    harness.worker.remote = replace(harness.worker.remote, egress=parse("10.0.0.0/8"))
    await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-4", {})

    await harness.worker.once()
    [firing] = await firings(harness)

    assert (firing.state, firing.last_error) == (
        pb.FIRING_STATE_FAILED,
        "webhook desk-chat: url host 127.0.0.1 is not allowed by TRADEOPS_EGRESS_ALLOW",
    )
    assert firing.attempts == 1
    assert harness.receiver.posts == []


async def test_a_webhook_inside_the_policy_is_posted(harness: Harness) -> None:
    harness.worker.remote = replace(harness.worker.remote, egress=parse("127.0.0.1"))
    await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-4", {})

    await harness.worker.once()
    [firing] = await firings(harness)

    assert (firing.state, firing.created) == (pb.FIRING_STATE_DONE, "webhook/desk-chat")
    assert len(harness.receiver.posts) == 1


async def test_a_redirect_is_not_followed_even_by_a_client_that_would(harness: Harness) -> None:
    harness.receiver.status = 307
    harness.receiver.location = f"{harness.receiver.url}/elsewhere"
    await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-4", {})

    async with httpx.AsyncClient(follow_redirects=True) as following:
        harness.worker.remote = replace(harness.worker.remote, http=following)
        await harness.worker.once()
    [firing] = await firings(harness)

    assert (firing.state, firing.last_error) == (
        pb.FIRING_STATE_PENDING,
        "webhook desk-chat answered HTTP 307",
    )
    assert [post.path for post in harness.receiver.posts] == ["/hooks/tradeops"]
