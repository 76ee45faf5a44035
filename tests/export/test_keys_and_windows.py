"""Signing keys (file loading, dev creation, rotation) and audit extracts by time window."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import Principal
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import Signer
from services.export.service.exports import Exporter, create_export
from services.export.service.queries import list_public_keys
from services.export.service.signing_key import KeyFileError, load_signer
from services.export.settings import Settings
from tests.export.conftest import RECORDED_AT, FakeAudit, signed_checkpoint


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


async def test_a_new_key_is_listed_and_the_previous_one_retired(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal
) -> None:
    old = await create_export(exporter, ExportRequest("audit_extract"), carol)
    rotated = replace(exporter, signer=Signer(Ed25519PrivateKey.generate()))
    new = await create_export(rotated, ExportRequest("audit_extract"), carol)

    keys = {key.key_id: key for key in await list_public_keys(exporter.db)}
    assert old.key_id != new.key_id
    assert keys[old.key_id].retired_at is not None
    assert keys[new.key_id].retired_at is None
    assert new.prev_manifest_sha256 == old.manifest_sha256  # the chain spans rotations


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
