"""The LLM endpoint under the egress policy (TRADEOPS_EGRESS_ALLOW): a URL at a cloud metadata
address stops the agent at start unless listed, and a name resolving to one is refused before
any request is sent."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from runtime import egress
from runtime.egress import Address, Refused, parse
from runtime.settings import SettingsError
from services.agent.compliance.clients.llm import narrate
from services.agent.compliance.settings import LlmSettings

METADATA = ["169.254.169.254", "100.100.100.200"]


@pytest.mark.parametrize("address", METADATA)
def test_an_llm_url_at_a_metadata_address_is_refused_at_start_naming_the_setting(
    address: str,
) -> None:
    with pytest.raises(SettingsError, match=r"TRADEOPS_AGENT_LLM_URL.*TRADEOPS_EGRESS_ALLOW"):
        LlmSettings.from_env({"TRADEOPS_AGENT_LLM_URL": f"http://{address}/v1"})


@pytest.mark.parametrize("address", METADATA)
def test_it_is_allowed_when_the_policy_lists_it(address: str) -> None:
    env = {"TRADEOPS_AGENT_LLM_URL": f"http://{address}/v1", "TRADEOPS_EGRESS_ALLOW": address}
    settings = LlmSettings.from_env(env)
    assert settings is not None
    assert settings.egress == parse(address)


def test_loopback_stays_allowed_by_default() -> None:
    assert LlmSettings.from_env({"TRADEOPS_AGENT_LLM_URL": "http://127.0.0.1:9/v1"}) is not None


async def test_a_name_resolving_to_a_metadata_address_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def metadata(host: str) -> list[Address]:
        return [ip_address("169.254.169.254")]

    monkeypatch.setattr(egress, "resolve", metadata)
    settings = LlmSettings.from_env({"TRADEOPS_AGENT_LLM_URL": "http://llm.example/v1"})
    assert settings is not None
    with pytest.raises(Refused, match=r"llm.example .169.254.169.254. is not allowed by TRADEOPS"):
        await narrate(settings, {"records": 1})
