"""Signing keys (file loading, dev creation, rotation, pinning) and audit extracts by time
window."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import Principal
from services.cli import main as tradeops
from services.deploy import init as deploy_init
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import PinnedKeys, Signer
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.exports import Exporter, create_export
from services.export.service.queries import list_public_keys
from services.export.service.signing_key import (
    KeyFileError,
    earlier_keys,
    load_pinned_keys,
    load_signer,
)
from services.export.service.verification.fetch_back import verify_delivered
from services.export.settings import Settings
from tests.export.conftest import RECORDED_AT, FakeAudit, signed_checkpoint
from tests.export.test_delivery_support import T0


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


def at(seq: int) -> datetime:
    return datetime.fromtimestamp(RECORDED_AT + seq, UTC)


def test_a_dev_key_is_created_0600_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "export.pem"
    env = {"TRADEOPS_EXPORT_SIGNING_KEY_FILE": str(path), "TRADEOPS_EXPORT_CREATE_DEV_KEY": "1"}

    settings = Settings.from_env(env)
    first = load_signer(settings.signing_key_file, create_if_missing=settings.create_dev_key)
    again = load_signer(settings.signing_key_file, create_if_missing=settings.create_dev_key)

    assert path.stat().st_mode & 0o777 == 0o600
    assert first.key_id == again.key_id
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_a_missing_key_without_the_dev_switch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot load"):
        load_signer(tmp_path / "absent.pem")


async def test_a_rotated_key_signs_new_exports_and_old_ones_still_verify(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "export.pem"
    env = {"TRADEOPS_EXPORT_SIGNING_KEY_FILE": str(key_file)}
    old = started(exporter, Settings.from_env({**env, "TRADEOPS_EXPORT_CREATE_DEV_KEY": "1"}))
    before = await create_export(old.exporter, ExportRequest("audit_extract"), carol)

    assert tradeops(["keys", "rotate", "export", "--key-file", str(key_file)]) == 0
    new = started(exporter, Settings.from_env(env))
    after = await create_export(new.exporter, ExportRequest("audit_extract"), carol)

    listed = list_public_keys(new.config.keys)
    assert [key.key_id for key in listed] == [after.key_id, before.key_id]
    assert (listed[0].retired_at, listed[1].retired_at is not None) == (None, True)
    assert key_file.stat().st_mode & 0o777 == 0o600
    for export in (before, after):
        verdict = await verify_delivered(exporter.db, new.config, export.id, actor=carol, now=T0)
        assert (verdict.ok, verdict.problems) == (True, ())
    old_pem = tmp_path / "old.pub.pem"
    old_pem.write_text(listed[1].pem)
    directory = str(exporter.export_dir / before.id)
    assert tradeops(["export", "verify", directory, "--pubkey", str(old_pem)]) == 0


async def test_an_export_signed_by_a_key_not_pinned_fails_verification(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, tmp_path: Path
) -> None:
    export = await create_export(exporter, ExportRequest("audit_extract"), carol)
    other = Signer(Ed25519PrivateKey.generate())
    config = DeliveryConfig({}, exporter.export_dir, keys=PinnedKeys.of(other, T0, []))

    verdict = await verify_delivered(exporter.db, config, export.id, actor=carol, now=T0)

    assert not verdict.ok
    assert verdict.problems == (
        f"the export's signing key {export.key_id} is not pinned (neither the current key nor "
        "in TRADEOPS_EXPORT_VERIFY_KEYS_FILE)",
    )


def test_a_rotation_without_a_key_file_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "absent.pem"

    assert tradeops(["keys", "rotate", "export", "--key-file", str(key_file)]) == 2
    assert "nothing rotated: cannot load the export signing key" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_pinned_key_whose_id_is_not_its_own_is_refused(tmp_path: Path, signer: Signer) -> None:
    other = Signer(Ed25519PrivateKey.generate())
    entry = {"key_id": signer.key_id, "pem": other.public_pem.decode()}
    verify_keys = tmp_path / "keys.public.json"
    verify_keys.write_text(
        json.dumps([{**entry, "created_at": T0.isoformat(), "retired_at": None}])
    )

    with pytest.raises(KeyFileError, match=f"key_id '{signer.key_id}' is not the id of its pem"):
        earlier_keys(verify_keys)


@pytest.mark.parametrize(
    ("statement", "sqlstate"),
    [
        ("CREATE TABLE export.signing_keys (key_id text, pem text)", "42501"),
        (
            "INSERT INTO export.signing_keys (key_id, pem, created_at)"
            " VALUES ('forged', 'x', now())",
            "42P01",
        ),
    ],
)
def test_the_export_role_cannot_plant_a_signing_key(
    db_urls: dict[str, str], statement: str, sqlstate: str
) -> None:
    with psycopg.connect(db_urls["export"]) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute(statement)
    assert refused.value.sqlstate == sqlstate


@dataclass(frozen=True)
class Started:
    exporter: Exporter
    config: DeliveryConfig


def started(exporter: Exporter, settings: Settings) -> Started:
    """What __main__ builds from the key files at start-up."""
    signer = load_signer(settings.signing_key_file, create_if_missing=settings.create_dev_key)
    keys = load_pinned_keys(settings.signing_key_file, settings.verify_keys_file, signer)
    config = DeliveryConfig({}, exporter.export_dir, keys=keys)
    return Started(replace(exporter, signer=signer), config)


async def test_a_time_window_extract_holds_the_records_recorded_inside_it(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    request = ExportRequest("audit_extract", since=at(1), until=at(4))
    export = await create_export(exporter, request, carol)

    directory = exporter.export_dir / export.id
    lines = (directory / "records.jsonl").read_text().splitlines()
    assert export.state is ExportState.SIGNED
    assert [json.loads(line)["seq"] for line in lines] == ["1", "2", "3"]
    assert (export.from_seq, export.to_seq) == (1, 3)
    assert [p["seq"] for p in json.loads((directory / "proofs.json").read_text())["proofs"]] == [
        "1",
        "3",
    ]


async def test_an_empty_time_window_gives_an_empty_signed_extract(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    request = ExportRequest("audit_extract", since=at(100))
    export = await create_export(exporter, request, carol)

    assert (export.state, export.record_count, export.to_seq) == (ExportState.SIGNED, 0, -1)


async def test_an_audit_extract_as_csv_has_one_column_per_field(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal
) -> None:
    export = await create_export(exporter, ExportRequest("audit_extract", format="csv"), carol)

    text = (exporter.export_dir / export.id / "records.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["seq"] for row in rows] == ["0", "1", "2", "3", "4"]
    assert rows[0]["event.payload_json"] == '{"note":"Zürich desk"}'
    assert json.loads(rows[0]["event.actor"])["subject"] == "alice"
    assert export.record_count == 5


def test_a_rotation_in_a_deploy_init_folder_must_name_its_verify_keys_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default verify-keys file beside the key is not the one a deploy init folder mounts:
    a rotation writing it would leave the mounted file without the retired key."""
    folder = tmp_path / "deployment"
    deploy_init(folder)
    key_file, mounted = folder / "export-signing-key.pem", folder / "export-verify-keys.json"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    assert tradeops(["keys", "rotate", "export", "--key-file", str(key_file)]) == 2
    assert f"--verify-keys-file {mounted}" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before

    rotated = ["--key-file", str(key_file), "--verify-keys-file", str(mounted)]
    assert tradeops(["keys", "rotate", "export", *rotated]) == 0
    pinned = json.loads(mounted.read_text())
    assert [key["retired_at"] is None for key in pinned] == [True, False]  # the new, the retired
    assert not (folder / "export-signing-key.public.json").exists()
