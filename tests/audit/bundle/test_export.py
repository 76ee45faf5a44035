from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audit.bundle.cli import Cli, verify
from tests.audit.bundle.drills import file_names, lines


async def test_a_range_past_the_signed_tree_is_cut_at_its_last_record(
    cli: Cli, tmp_path: Path
) -> None:
    status = await cli.export(tmp_path / "b", "--from-seq", "25", "--to-seq", "500")

    assert status == 0
    assert [json.loads(line)["seq"] for line in lines(tmp_path / "b")] == list(range(25, 30))
    assert verify(tmp_path / "b") == 0


async def test_export_refuses_a_folder_that_is_not_empty(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")

    status = await cli.export(tmp_path / "b")

    assert status == 2
    assert "is not an empty directory" in capsys.readouterr().err
    assert file_names(tmp_path / "b") == ["notes.txt"]


async def test_export_without_a_token_says_so(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await Cli({**cli.env, "TRADEOPS_TOKEN": ""}).export(tmp_path / "b")

    assert (status, capsys.readouterr().err) == (
        2,
        "tradeops: set TRADEOPS_TOKEN to a compliance or admin token\n",
    )


async def test_export_with_a_viewer_token_is_refused_without_echoing_the_token(
    cli: Cli, tmp_path: Path, token_for: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_for("vera", "viewer")

    status = await Cli({**cli.env, "TRADEOPS_TOKEN": token}).export(tmp_path / "b")

    err = capsys.readouterr().err
    assert status == 1
    assert "PERMISSION_DENIED" in err
    assert token not in err


async def test_export_to_an_unreachable_service_fails_with_its_address(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**cli.env, "TRADEOPS_AUDIT_ADDR": "127.0.0.1:1", "TRADEOPS_RPC_TIMEOUT_S": "2"}

    status = await Cli(env).export(tmp_path / "b")

    assert status == 1
    assert capsys.readouterr().err.startswith("tradeops: audit service at 127.0.0.1:1: UNAVAILABLE")


async def test_export_shows_progress_and_says_what_it_wrote(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await cli.export(tmp_path / "b", "--to-seq", "9", "--progress")

    captured = capsys.readouterr()
    assert status == 0
    assert "10/10 records" in captured.err
    assert captured.out == f"exported 10 records [0, 9] of tree size 30 to {tmp_path / 'b'}\n"


async def test_proofs_fetched_many_at_a_time_are_written_in_record_order(
    cli: Cli, tmp_path: Path
) -> None:
    assert await cli.export(tmp_path / "b", "--from-seq", "1") == 0

    proven = [json.loads(line)["seq"] for line in lines(tmp_path / "b", "proofs.jsonl")]
    assert proven == list(range(1, 30))
    assert verify(tmp_path / "b") == 0
