from __future__ import annotations

import asyncio
import json
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from runtime.clients import bearer, open_channel
from services.audit.log.domain.note import Signer
from services.audit.log.service import proving as proofs
from services.audit.log.service.log import AuditLog
from tests.audit.bundle.cli import Cli, verify
from tests.audit.bundle.drills import file_names, lines
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc


async def expected_ok(log: AuditLog, count: int) -> str:
    signed = await proofs.checkpoint(log)
    keys = proofs.public_keys(log)
    return (
        f"OK: {count} records, tree size 30, root {signed.root_hex}, "
        f"signed by {keys[0].name} {signed.key_id_hex}\n"
    )


async def test_a_whole_log_bundle_verifies_offline_and_names_the_signed_root(
    whole: Path, log: AuditLog, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    status = verify(whole)

    assert (status, capsys.readouterr().out) == (0, await expected_ok(log, 30))
    assert file_names(whole) == [
        "bundle.json",
        "checkpoint.txt",
        "keys.json",
        "records.jsonl",
    ]
    assert [json.loads(line)["seq"] for line in lines(whole)] == list(range(30))
    info = json.loads((whole / "bundle.json").read_text())
    assert (info["tree_size"], info["from_seq"], info["to_seq"], info["records"]) == (30, 0, 29, 30)


async def test_the_checkpoint_is_written_exactly_as_signed(whole: Path, log: AuditLog) -> None:
    assert (whole / "checkpoint.txt").read_bytes() == (await proofs.checkpoint(log)).note.encode()


async def test_a_partial_bundle_carries_inclusion_proofs_and_verifies(
    part: Path, log: AuditLog, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    status = verify(part)

    assert (status, capsys.readouterr().out) == (0, await expected_ok(log, 8))
    assert [json.loads(line)["seq"] for line in lines(part)] == list(range(5, 13))
    assert [json.loads(line)["seq"] for line in lines(part, "proofs.jsonl")] == list(range(5, 13))


async def test_a_redacted_payload_is_exported_as_redacted_and_still_verifies(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with open_channel(cli.env["TRADEOPS_AUDIT_ADDR"]) as channel:
        request = pb.RedactPayloadRequest(seq=4, reason="personal data")
        metadata = bearer(cli.env["TRADEOPS_TOKEN"])
        await pb_grpc.AuditServiceStub(channel).RedactPayload(request, metadata=metadata, timeout=5)
    assert await cli.export(tmp_path / "b") == 0
    capsys.readouterr()

    status = verify(tmp_path / "b")

    record = json.loads(lines(tmp_path / "b")[4])
    assert (record["payload_json"], record["redacted"]) == ("", True)
    assert status == 0, capsys.readouterr().out


async def test_the_progress_bar_reports_records_on_stderr_when_asked(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    verify(whole, "--progress")

    assert "30/30 records" in capsys.readouterr().err


async def test_the_installed_command_verifies_a_bundle_in_its_own_process(
    whole: Path, repo_root: Path
) -> None:
    command = [sys.executable, "-m", "services.cli", "audit", "verify-bundle", str(whole)]
    done = await asyncio.create_subprocess_exec(*command, cwd=repo_root, stdout=PIPE, stderr=PIPE)
    out, _ = await done.communicate()

    assert (done.returncode, out.decode()[:18]) == (0, "OK: 30 records, tr")


async def test_verifying_a_folder_that_is_not_a_bundle_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(tmp_path / "absent") == 2
    assert verify(tmp_path) == 2
    assert (
        "missing bundle.json, keys.json, checkpoint.txt, records.jsonl" in capsys.readouterr().err
    )


async def test_an_auditor_who_trusts_the_published_key_accepts_the_bundle(
    whole: Path, log: AuditLog, capsys: pytest.CaptureFixture[str]
) -> None:
    published = (proofs.public_keys(log))[0].vkey
    capsys.readouterr()

    assert verify(whole, "--trusted-key", published) == 0
    assert capsys.readouterr().out == await expected_ok(log, 30)


async def test_a_bundle_signed_by_a_key_the_auditor_does_not_trust_fails(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone who rewrote the records could have replaced keys.json and re-signed as well.
    stranger = Signer.generate("tradeops.test-audit").vkey
    capsys.readouterr()

    assert verify(whole, "--trusted-key", stranger) == 1
    assert "which is not among the trusted keys" in capsys.readouterr().out
