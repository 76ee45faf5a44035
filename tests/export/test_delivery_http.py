"""Delivery to an HTTP endpoint (a local threaded http.server taking PUTs), and the
TRADEOPS_EXPORT_DESTINATIONS configuration."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.settings import SettingsError
from services.export.clients.destinations import config as destinations
from services.export.clients.destinations.directory import DirectoryDestination
from services.export.clients.destinations.http import HttpDestination
from services.export.clients.destinations.sftp import SftpDestination
from services.export.domain.exports import ExportState
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.send import deliver
from services.export.service.queries import list_attempts
from services.export.service.verification.fetch_back import verify_delivered
from services.export.settings import DESTINATIONS_ENV, Settings
from tests.export.test_delivery_support import (
    PINNED,
    T0,
    HttpReceiver,
    digests,
    serve,
    signed_export,
)

TOKEN = "receiver-token-0123456789"


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[HttpReceiver]:
    yield from serve(HttpReceiver(tmp_path / "received", TOKEN))


def http_config(tmp_path: Path, receiver: HttpReceiver, token: str = TOKEN) -> DeliveryConfig:
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    url = f"http://127.0.0.1:{receiver.port}/{{export_id}}/{{file}}"
    endpoint = HttpDestination("regulator", url, "PUT", token_file)
    return DeliveryConfig({"regulator": endpoint}, tmp_path / "exports", keys=PINNED)


async def test_every_file_is_put_with_the_signature_last_and_fetches_back_intact(
    export_db: Database, carol: Principal, tmp_path: Path, receiver: HttpReceiver
) -> None:
    config = http_config(tmp_path, receiver)
    export = await signed_export(export_db, config.export_dir, carol, "regulator")

    delivered = await deliver(export_db, config, export.id, "regulator", actor=carol, now=T0)
    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)

    local = config.export_dir / export.id
    assert delivered.state is ExportState.DELIVERED
    assert delivered.location == f"http://127.0.0.1:{receiver.port}/{export.id}/"
    assert digests(tmp_path / "received" / export.id) == digests(local)
    assert receiver.arrivals[-2:] == [
        f"/{export.id}/manifest.json",
        f"/{export.id}/manifest.json.sig",
    ]
    assert (verdict.ok, verdict.problems) == (True, ())


async def test_a_refused_upload_is_recorded_without_the_token(
    export_db: Database, carol: Principal, tmp_path: Path, receiver: HttpReceiver
) -> None:
    config = http_config(tmp_path, receiver, token="not-the-right-token")
    export = await signed_export(export_db, config.export_dir, carol, "regulator")

    after = await deliver(export_db, config, export.id, "regulator", actor=carol, now=T0)

    [attempt] = await list_attempts(export_db, export.id)
    assert after.state is ExportState.SIGNED  # kept, and retried later
    assert attempt.outcome == "failed"
    assert "answered HTTP 401" in attempt.detail
    assert "not-the-right-token" not in attempt.detail


def test_destinations_come_from_json_with_secrets_left_in_their_files(tmp_path: Path) -> None:
    key, token = tmp_path / "id_ed25519", tmp_path / "token"
    key.write_text("PRIVATE KEY MATERIAL")
    token.write_text("s3cret-token")
    entries = [
        {"name": "vault", "type": "directory", "path": str(tmp_path / "vault")},
        {
            "name": "sftp",
            "type": "sftp",
            "host": "files.example",
            "user": "tradeops",
            "remote_dir": "/in",
            "key_file": str(key),
            "host_key_fingerprint": "SHA256:abc",
        },
        {
            "name": "web",
            "type": "http",
            "url": "https://x.example/{export_id}/{file}",
            "token_file": str(token),
        },
    ]

    found = destinations.parse(
        Settings.from_env({DESTINATIONS_ENV: json.dumps(entries)}).destinations
    )

    assert isinstance(found["vault"], DirectoryDestination)
    assert isinstance(found["sftp"], SftpDestination)
    assert found["sftp"].port == 22
    assert isinstance(found["web"], HttpDestination)
    assert found["web"].method == "PUT"
    shown = repr(found)
    assert "PRIVATE KEY MATERIAL" not in shown
    assert "s3cret-token" not in shown
    assert destinations.parse(Settings.from_env({}).destinations) == {}
    assert destinations.verified_after_delivery(json.dumps(entries)) == set()


async def test_a_destination_marked_verify_is_fetched_back_after_each_delivery(
    export_db: Database, carol: Principal, tmp_path: Path
) -> None:
    entry = {"name": "vault", "type": "directory", "path": str(tmp_path / "vault"), "verify": True}
    env = {DESTINATIONS_ENV: json.dumps([entry])}
    config = DeliveryConfig.configured(Settings.from_env(env), tmp_path / "exports", PINNED)
    export = await signed_export(export_db, config.export_dir, carol, "vault")

    after = await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    assert config.verify_after_delivery == {"vault"}
    assert after.state is ExportState.VERIFIED


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"name": "a", "type": "ftp"}], "type must be one of"),
        ([{"name": "a", "type": "directory"}], "path must be a non-empty string"),
        ([{"name": "a", "type": "http", "url": "https://x.example/"}], "contain {file}"),
        (
            [
                {
                    "name": "a",
                    "type": "sftp",
                    "host": "h",
                    "user": "u",
                    "remote_dir": "/",
                    "key_file": "/nope",
                }
            ],
            "no readable file",
        ),
        ([{"name": "a", "type": "directory", "path": "/x"}] * 2, "names a destination twice"),
    ],
)
def test_a_bad_destination_configuration_is_refused_at_start(
    entries: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        destinations.parse(json.dumps(entries))


def test_an_sftp_destination_must_say_how_to_trust_the_server(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    entry = {
        "name": "a",
        "type": "sftp",
        "host": "h",
        "user": "u",
        "remote_dir": "/",
        "key_file": str(key),
    }

    with pytest.raises(SettingsError, match="known_hosts_file or host_key_fingerprint"):
        destinations.parse(json.dumps([entry]))
