"""SIEM destinations under the egress policy (TRADEOPS_EGRESS_ALLOW): a host or URL at a cloud
metadata address stops the audit service at start unless listed, and a name resolving to one
is refused before any connection, over syslog and over HTTP alike."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from runtime import egress
from runtime.egress import Address, Refused
from services.audit.siem.clients.http import HttpLink
from services.audit.siem.clients.syslog import StreamLink
from services.audit.siem.domain.batches import Position
from services.audit.siem.settings import ENV, ConfigError, Settings

METADATA = ["169.254.169.254", "100.100.100.200"]


def syslog(host: str) -> dict[str, Any]:
    return {"name": "soc", "transport": "tcp", "host": host, "port": 514}


def http(host: str) -> dict[str, Any]:
    return {"name": "hec", "transport": "http", "url": f"http://{host}/hec", "token_file": "/t"}


def settings(entry: dict[str, Any], allow: str = "") -> Settings:
    return Settings.from_env({ENV: json.dumps([entry]), "TRADEOPS_EGRESS_ALLOW": allow})


@pytest.mark.parametrize("shape", [syslog, http])
@pytest.mark.parametrize("address", METADATA)
def test_a_destination_at_a_metadata_address_is_refused_at_start_naming_the_setting(
    shape: Any, address: str
) -> None:
    with pytest.raises(ConfigError, match=rf"{ENV}\[0\].*TRADEOPS_EGRESS_ALLOW"):
        settings(shape(address))
    assert settings(shape(address), allow=address).destinations
    assert settings(shape("127.0.0.1")).destinations  # loopback stays allowed


@pytest.fixture
def metadata_name(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str) -> list[Address]:
        return [ip_address("127.0.0.1"), ip_address("100.100.100.200")]

    monkeypatch.setattr(egress, "resolve", resolve)


@pytest.mark.usefixtures("metadata_name")
async def test_a_syslog_host_resolving_to_a_metadata_address_is_never_connected() -> None:
    configured = settings(syslog("siem.example"))
    link = StreamLink(configured.destinations[0], configured.egress)
    with pytest.raises(Refused, match=r"siem.example \(100.100.100.200\)"):
        await link.open()


@pytest.mark.usefixtures("metadata_name")
async def test_a_collector_resolving_to_a_metadata_address_is_never_posted_to(
    tmp_path: Path,
) -> None:
    (tmp_path / "token").write_text("t0k\n")
    entry = {**http("hec.example"), "token_file": str(tmp_path / "token")}
    configured = settings(entry)
    link = HttpLink(configured.destinations[0], configured.egress)
    await link.open()
    try:
        with pytest.raises(Refused, match=r"hec.example \(100.100.100.200\)"):
            await link.send([b"{}"], [Position(0, 0)])
    finally:
        await link.close()
