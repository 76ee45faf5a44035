"""Export destinations under the egress policy (TRADEOPS_EGRESS_ALLOW): an SFTP host or HTTP URL
at a cloud metadata address stops the export service at start unless listed, and a name
resolving to one is refused before any connection, with a DeliveryError naming the policy."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from runtime import egress
from runtime.egress import Address
from runtime.settings import SettingsError
from services.export.clients.destinations import DeliveryError
from services.export.clients.destinations import config as destinations
from services.export.settings import DESTINATIONS_ENV, Settings

METADATA = ["169.254.169.254", "100.100.100.200"]


def sftp(host: str, key: Path) -> dict[str, Any]:
    return {
        "name": "vault",
        "type": "sftp",
        "host": host,
        "user": "u",
        "remote_dir": "/in",
        "key_file": str(key),
        "host_key_fingerprint": "SHA256:abc",
    }


def http(host: str, key: Path) -> dict[str, Any]:
    return {"name": "web", "type": "http", "url": f"http://{host}/{{export_id}}/{{file}}"}


def parsed(entry: dict[str, Any], allow: str = "") -> Any:
    settings = Settings.from_env(
        {DESTINATIONS_ENV: json.dumps([entry]), "TRADEOPS_EGRESS_ALLOW": allow}
    )
    return destinations.parse(settings.destinations, settings.egress)[entry["name"]]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    (tmp_path / "key").write_text("PRIVATE KEY MATERIAL")
    return tmp_path / "key"


@pytest.mark.parametrize("shape", [sftp, http])
@pytest.mark.parametrize("address", METADATA)
def test_a_destination_at_a_metadata_address_is_refused_at_start_naming_the_setting(
    shape: Any, address: str, key: Path
) -> None:
    with pytest.raises(SettingsError, match=rf"{DESTINATIONS_ENV}\[0\].*TRADEOPS_EGRESS_ALLOW"):
        parsed(shape(address, key))
    assert parsed(shape(address, key), allow=address).name
    assert parsed(shape("127.0.0.1", key)).name  # loopback stays allowed


@pytest.mark.parametrize("shape", [sftp, http])
async def test_a_name_resolving_to_a_metadata_address_is_never_connected(
    shape: Any, key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolve(host: str) -> list[Address]:
        return [ip_address("169.254.169.254")]

    monkeypatch.setattr(egress, "resolve", resolve)
    destination = parsed(shape("files.example", key))
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "data.csv").write_text("a\n")
    with pytest.raises(DeliveryError, match=r"files.example \(169.254.169.254\).*EGRESS_ALLOW"):
        await destination.put_directory(tmp_path / "export", "e1")
