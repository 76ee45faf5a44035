"""Each drill tampers with an exported bundle's files; the offline verifier must fail (exit 1)
and name the first bad seq, or the checkpoint, with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audit.bundle.cli import verify
from tests.audit.bundle.drills import (
    alter_root,
    cut_last_line,
    delete_lines,
    duplicate_line,
    edit_record,
    lines,
    rewrite,
    sign_with_unknown_key,
    swap_lines,
)

KEY = "tradeops.test-audit"


def failure(folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    status = verify(folder)
    out = capsys.readouterr().out
    assert status == 1, out
    return out


DRILLS: dict[str, tuple[Callable[[Path], object], str]] = {
    "edited record": (
        lambda f: edit_record(f, 7, action="ops.action.rejected"),
        "FAILED at seq 7: leaf_hash does not match the record's canonical encoding\n",
    ),
    "edited payload": (
        lambda f: edit_record(f, 3, payload_json='{"n":99}'),
        "FAILED at seq 3: payload_sha256 does not match the stored payload\n",
    ),
    "deleted middle record": (
        lambda f: delete_lines(f, 12),
        "FAILED at seq 12: seq 12 is missing (the next record has seq 13)\n",
    ),
    "deleted tail": (
        lambda f: delete_lines(f, 27, 28, 29),
        "FAILED at seq 27: a checkpoint signs tree size 30 but the log ends at 27\n",
    ),
    "swapped records": (
        lambda f: swap_lines(f, 5, 9),
        "FAILED at seq 5: records out of order: seq 5 is on records.jsonl line 10, not 6\n",
    ),
    "duplicated record": (
        lambda f: duplicate_line(f, 8),
        "FAILED at seq 8: duplicate record: seq 8 is on records.jsonl lines 9, 10\n",
    ),
    "truncated file": (
        cut_last_line,
        "FAILED at seq 29: records.jsonl line 30 is cut short (the file is truncated)\n",
    ),
}


@pytest.mark.parametrize("drill", DRILLS)
async def test_a_tampered_whole_bundle_fails_naming_the_first_bad_seq_and_why(
    drill: str, whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, expected = DRILLS[drill]
    tamper(whole)

    assert failure(whole, capsys) == expected


def signing_key_id(folder: Path) -> str:
    return str(json.loads((folder / "keys.json").read_text())["keys"][0]["key_id"])


async def test_an_altered_checkpoint_root_fails_on_the_signature(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alter_root(whole)

    assert failure(whole, capsys) == (
        f"FAILED: checkpoint.txt: the signature of {KEY} {signing_key_id(whole)} does not verify "
        "(the checkpoint was altered or the signature forged)\n"
    )


async def test_a_checkpoint_signed_by_an_unknown_key_fails_naming_that_key(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    intruder = sign_with_unknown_key(whole)

    out = failure(whole, capsys)

    assert out == (
        f"FAILED: checkpoint.txt is signed only by unknown keys ({KEY} {intruder.key_id.hex()}), "
        f"not by {KEY} {signing_key_id(whole)}\n"
    )


async def test_a_record_appended_past_the_signed_size_fails(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = lines(whole)
    rewrite(whole, [*found, found[-1].replace('"seq":29', '"seq":30')])

    out = failure(whole, capsys)

    assert out == "FAILED at seq 30: records.jsonl goes on past the checkpoint's tree size 30\n"


async def test_an_edited_record_in_a_partial_bundle_fails_at_its_seq(
    part: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_record(part, 2, target="action/999")

    assert failure(part, capsys) == (
        "FAILED at seq 7: leaf_hash does not match the record's canonical encoding\n"
    )


async def test_a_record_dropped_from_the_end_of_a_partial_bundle_fails(
    part: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    delete_lines(part, 7)
    found = lines(part, "proofs.jsonl")
    rewrite(part, found[:-1], "proofs.jsonl")

    assert failure(part, capsys) == (
        "FAILED at seq 12: records.jsonl ends before seq 12; the bundle holds up to seq 12\n"
    )


async def test_a_forged_inclusion_proof_fails_at_its_record(
    part: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = lines(part, "proofs.jsonl")
    proof = json.loads(found[3])
    proof["proof"][0] = "f" * 64
    found[3] = json.dumps(proof) + "\n"
    rewrite(part, found, "proofs.jsonl")

    assert failure(part, capsys) == (
        "FAILED at seq 8: the inclusion proof does not verify: the proof leads to a different "
        "root\n"
    )
