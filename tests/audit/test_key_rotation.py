"""Rotation starts a new key from a tree size onward; history is never re-signed, and the log
verifies across the change with each checkpoint checked against the key of its window."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from services.audit.log.domain.checkpoints.cutting import Cadence
from services.audit.log.domain.keyring import KeyringError, generate_dev_keyring
from services.audit.log.domain.note import Signer
from services.audit.log.service.keyring import _check
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.verification import verify_log
from services.audit.tables import checkpoints
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
