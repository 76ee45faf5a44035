"""A produced export verifies with standard tools, with the service's verifier and with the CLI;
each kind of tampering is detected and named."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.auth import Principal
from services.export.cli import main
from services.export.domain.exports import Export, ExportState
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import Signer
from services.export.service.exports import Exporter, create_export
from services.export.service.verification.directory import verify_directory
from tests.export.conftest import FakeAudit, signed_checkpoint

OPENSSL = (
    "openssl pkeyutl -verify -rawin -pubin -inkey KEY -in manifest.json -sigfile manifest.json.sig"
)


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


async def produce(exporter: Exporter, carol: Principal, **more: object) -> tuple[Export, Path]:
    request = ExportRequest(**{"kind": "audit_extract", **more})  # type: ignore[arg-type]
    export = await create_export(exporter, request, carol)
    assert export.state is ExportState.SIGNED, export.failure_reason
    return export, exporter.export_dir / export.directory


def cli(directory: Path, key: Path, *more: str) -> tuple[int, str]:
    return main(["export", "verify", str(directory), "--pubkey", str(key), *more]), ""


def verify(directory: Path, key: Path, previous: Path | None = None) -> list[str]:
    before = None if previous is None else (previous / "manifest.json").read_bytes()
    return verify_directory(directory, key.read_bytes(), before)


def standard_tools(directory: Path, key: Path) -> tuple[CompletedProcess[str], ...]:
    """Exactly what an outside auditor types, in the export's directory."""
    command = OPENSSL.replace("KEY", str(key)).split()
    signature = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    sums = ["sha256sum", "-c", "SHA256SUMS"]
    return signature, subprocess.run(sums, cwd=directory, capture_output=True, text=True)


async def test_openssl_and_sha256sum_verify_a_produced_export(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, key_file: Path
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    _, directory = await produce(exporter, carol)

    signature, sums = standard_tools(directory, key_file)

    assert signature.returncode == 0, signature.stderr
    assert "Signature Verified Successfully" in signature.stdout
    assert sums.returncode == 0, sums.stderr
    assert "records.jsonl: OK" in sums.stdout
    assert verify(directory, key_file) == []
    assert cli(directory, key_file)[0] == 0


async def test_the_manifest_lists_every_file_with_its_size_hash_and_records(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, signer: Signer
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    export, directory = await produce(exporter, carol, from_seq=1, to_seq=3)

    body = json.loads((directory / "manifest.json").read_bytes())
    listed = {f["name"]: f for f in body["files"]}
    data = (directory / "records.jsonl").read_bytes()
    assert listed["records.jsonl"] == {
        "name": "records.jsonl",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "record_count": 3,
    }
    assert set(listed) == {"records.jsonl", "checkpoint.txt", "proofs.json"}
    assert (body["export_id"], body["kind"], body["key_id"]) == (
        export.id,
        "audit_extract",
        signer.key_id,
    )
    assert (body["parameters"]["from_seq"], body["parameters"]["to_seq"]) == (1, 3)
    assert body["checkpoint"]["tree_size"] == 5
    assert (
        export.manifest_sha256
        == hashlib.sha256((directory / "manifest.json").read_bytes()).hexdigest()
    )
    assert (directory / "key.pub.pem").read_bytes() == signer.public_pem


async def test_manifests_form_a_chain_that_the_cli_checks_with_previous(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, key_file: Path, tmp_path: Path
) -> None:
    first, first_dir = await produce(exporter, carol)
    second, second_dir = await produce(exporter, carol)

    assert second.prev_manifest_sha256 == first.manifest_sha256
    assert verify(second_dir, key_file, first_dir) == []
    assert cli(second_dir, key_file, "--previous", str(first_dir))[0] == 0
    assert cli(second_dir, key_file, "--previous", str(exporter.export_dir))[0] == 0


def tamper_flip(directory: Path, other: Signer) -> str:
    data = bytearray((directory / "records.jsonl").read_bytes())
    data[10] ^= 0x01
    (directory / "records.jsonl").write_bytes(bytes(data))
    return "records.jsonl: SHA-256 does not match the manifest"


def tamper_missing(directory: Path, other: Signer) -> str:
    (directory / "checkpoint.txt").unlink()
    return "checkpoint.txt: missing"


def tamper_extra(directory: Path, other: Signer) -> str:
    (directory / "notes.txt").write_text("hello")
    return "notes.txt: not listed in the manifest"


def tamper_manifest(directory: Path, other: Signer) -> str:
    text = (directory / "manifest.json").read_text("utf-8")
    (directory / "manifest.json").write_text(text.replace('"format": "jsonl"', '"format": "csv"'))
    return "manifest.json.sig: does not verify: manifest.json was edited"


def tamper_key(directory: Path, other: Signer) -> str:
    (directory / "manifest.json.sig").write_bytes(
        other.sign((directory / "manifest.json").read_bytes())
    )
    (directory / "key.pub.pem").write_bytes(other.public_pem)
    return f"manifest.json.sig: signed by another key ({other.key_id})"


@pytest.mark.parametrize(
    "tamper", [tamper_flip, tamper_missing, tamper_extra, tamper_manifest, tamper_key]
)
async def test_each_tampering_is_detected_and_named_by_the_verifier_and_the_cli(
    exporter: Exporter,
    fake_audit: FakeAudit,
    carol: Principal,
    key_file: Path,
    tamper: Callable[[Path, Signer], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    _, directory = await produce(exporter, carol)
    expected = tamper(directory, Signer(Ed25519PrivateKey.generate()))

    problems = verify(directory, key_file)
    code, _ = cli(directory, key_file)

    assert any(p.startswith(expected) for p in problems), problems
    assert code == 1
    assert f"FAIL {expected}" in capsys.readouterr().out


async def test_a_broken_chain_is_detected_and_named(
    exporter: Exporter,
    fake_audit: FakeAudit,
    carol: Principal,
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, first_dir = await produce(exporter, carol)
    await produce(exporter, carol)
    _, third_dir = await produce(exporter, carol)

    problems = verify(third_dir, key_file, first_dir)
    code, _ = cli(third_dir, key_file, "--previous", str(first_dir))

    assert [p for p in problems if "manifest chain broken" in p] == problems != []
    assert code == 1
    assert "manifest chain broken" in capsys.readouterr().out


async def test_a_missing_previous_in_a_directory_of_exports_is_a_usage_error(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, key_file: Path, tmp_path: Path
) -> None:
    await produce(exporter, carol)
    _, second_dir = await produce(exporter, carol)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(second_dir, elsewhere / second_dir.name)

    assert cli(second_dir, key_file, "--previous", str(elsewhere))[0] == 2


async def test_the_cli_shows_a_progress_bar_when_asked(
    exporter: Exporter,
    fake_audit: FakeAudit,
    carol: Principal,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, directory = await produce(exporter, carol)

    code, _ = cli(directory, key_file, "--progress")

    captured = capsys.readouterr()
    assert code == 0
    assert "[##############################]" in captured.err
    assert "OK" in captured.out
