"""Rotation starts a new key from a tree size onward (`tradeops keys rotate checkpoint` writes
it); history is never re-signed, and the log verifies across the change with each checkpoint
checked against the key of its window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from services.audit.log.domain.checkpoints.cutting import Cadence
from services.audit.log.domain.keyring import KeyringError, generate_dev_keyring
from services.audit.log.domain.note import Signer
from services.audit.log.service import proving
from services.audit.log.service.keyring import _check
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.verification import verify_log
from services.audit.log.settings import ENV_KEYS, ENV_KEYS_FILE, keys_file
from services.audit.tables import checkpoints
from services.cli import main as tradeops
from tests.audit.factories import events
from tests.audit.logs import running_log

EVERY_TEN = Cadence(every_records=10, every_ms=3_600_000)


async def _signed(log: AuditLog) -> dict[int, tuple[str, str]]:
    async with log.db.transaction() as session:
        rows = await session.execute(
            select(checkpoints.c.tree_size, checkpoints.c.key_id, checkpoints.c.note)
        )
        return {row.tree_size: (row.key_id, row.note) for row in rows}


async def test_checkpoints_after_a_rotation_are_signed_by_the_new_key_only(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    first = generate_dev_keyring("tradeops.test-audit")
    async with running_log(empty_log.db, first, EVERY_TEN) as log:
        for _ in range(3):
            await append(log, events(10))
    before = await _signed(empty_log)
    rotated = first.rotate(Signer.generate("tradeops.test-audit-2026"), at_size=31)
    async with running_log(empty_log.db, rotated, EVERY_TEN) as log:
        for _ in range(2):
            await append(log, events(10))
        verdict = await verify_log(log, caller=principal_for("carol", "compliance"))

    after = await _signed(empty_log)
    old_id, new_id = (key.key_id_hex for key in rotated.public_keys())
    assert sorted(before) == [10, 20, 30]
    assert {size: after[size] for size in before} == before  # history untouched
    assert {size: after[size][0] for size in after} == {
        10: old_id,
        20: old_id,
        30: old_id,
        40: new_id,
        50: new_id,
    }
    assert (verdict.ok, verdict.checkpoint_size) == (True, 50)


async def test_a_rotation_behind_a_signed_checkpoint_is_refused(empty_log: AuditLog) -> None:
    first = generate_dev_keyring("tradeops.test-audit")
    async with running_log(empty_log.db, first, EVERY_TEN) as log:
        await append(log, events(20))
    late = first.rotate(Signer.generate("tradeops.test-audit-late"), at_size=15)

    with pytest.raises(KeyringError, match="rotate beyond 20"):
        await _check(empty_log.db, late)


async def test_tradeops_keys_rotate_checkpoint_keeps_every_checkpoint_verifying(
    empty_log: AuditLog, principal_for: Callable[..., Principal], tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(generate_dev_keyring("tradeops.test-audit").to_json())
    first = keys_file(path)
    async with running_log(empty_log.db, first, EVERY_TEN) as log:
        for _ in range(2):
            await append(log, events(10))

    rotate = ["keys", "rotate", "checkpoint", "--at-size", "21", "--file", str(path)]
    assert tradeops(rotate) == 0
    rotated = keys_file(path)
    async with running_log(empty_log.db, rotated, EVERY_TEN) as log:
        for _ in range(2):
            await append(log, events(10))
        verdict = await verify_log(log, caller=principal_for("carol", "compliance"))
        published = proving.public_keys(log)

    old, new = rotated.public_keys()
    assert (old.vkey, old.from_size, old.until_size) == (first.public_keys()[0].vkey, 0, 21)
    assert (new.name, new.from_size, new.until_size) == (old.name, 21, None)
    assert published == [old, new]
    signed = await _signed(empty_log)
    assert {size: key_id for size, (key_id, _) in signed.items()} == {
        10: old.key_id_hex,
        20: old.key_id_hex,
        30: new.key_id_hex,
        40: new.key_id_hex,
    }
    assert (verdict.ok, verdict.checkpoint_size) == (True, 40)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("at_size", ["0", "-3"])
def test_a_rotation_not_beyond_the_current_keys_start_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_size: str
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(generate_dev_keyring("tradeops.test-audit").to_json())
    before = path.read_text()

    assert (
        tradeops(["keys", "rotate", "checkpoint", "--at-size", at_size, "--file", str(path)]) == 2
    )
    assert "nothing rotated: rotation at size" in capsys.readouterr().err
    assert path.read_text() == before


def test_keys_given_inline_are_not_rotated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_KEYS_FILE, raising=False)
    monkeypatch.setenv(ENV_KEYS, generate_dev_keyring("tradeops.test-audit").to_json())

    assert tradeops(["keys", "rotate", "checkpoint", "--at-size", "100"]) == 2
    assert f"{ENV_KEYS} holds the keys inline" in capsys.readouterr().err
