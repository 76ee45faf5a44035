"""Live tamper drills: a rogue database superuser changes the log behind the service's back
(triggers off, as in test_verify_chain.py), and verification must name the first bad seq.
The log has checkpoints at sizes 10, 20 and 30 and five records after the last one, so the
drills reach both the hash chain and the signed checkpoints."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from runtime.auth import Principal
from services.audit.log.domain.checkpoints.cutting import Cadence
from services.audit.log.domain.records import Record, seal
from services.audit.log.repository import records as repository
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.verification import verify_log
from tests.audit.conftest import tamper
from tests.audit.factories import events
from tests.audit.logs import running_log


@pytest.fixture
async def log(empty_log: AuditLog) -> AsyncIterator[AuditLog]:
    async with running_log(empty_log.db, cadence=Cadence(10, 3_600_000)) as log:
        for _ in range(3):
            await append(log, events(10))
        await append(log, events(5))
        yield log


async def verdict_of(log: AuditLog, principal_for: Callable[..., Principal]) -> tuple[int, str]:
    verdict = await verify_log(log, caller=principal_for("carol", "compliance"))
    assert not verdict.ok
    return verdict.first_bad_seq, verdict.reason


async def test_the_untouched_drill_log_verifies_up_to_its_last_checkpoint(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    verdict = await verify_log(log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.checked, verdict.checkpoint_size) == (True, 35, 30)


async def test_a_changed_payload_is_named_at_its_seq(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await tamper(log.db, """UPDATE audit.payloads SET payload_json = '{"n": 99}' WHERE seq = 13""")

    assert await verdict_of(log, principal_for) == (
        13,
        "payload_sha256 does not match the stored payload",
    )


async def test_a_changed_leaf_hash_is_named_at_its_seq(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await tamper(log.db, f"UPDATE audit.records SET leaf_hash = '{'a' * 64}' WHERE seq = 13")

    assert await verdict_of(log, principal_for) == (
        13,
        "leaf_hash does not match the record's canonical encoding",
    )


async def test_a_deleted_middle_row_is_named_as_missing(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await tamper(
        log.db,
        "DELETE FROM audit.payloads WHERE seq = 13",
        "DELETE FROM audit.records WHERE seq = 13",
    )

    assert await verdict_of(log, principal_for) == (
        13,
        "seq 13 is missing (the next record has seq 14)",
    )


async def test_a_deleted_tail_is_caught_by_the_checkpoint_it_cut_through(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    # The head row still says 35, so the checkpoint signed at 30 is checked: the log now ends
    # at 25, the first seq that is gone.
    await tamper(
        log.db,
        "DELETE FROM audit.payloads WHERE seq >= 25",
        "DELETE FROM audit.records WHERE seq >= 25",
    )

    assert await verdict_of(log, principal_for) == (
        25,
        "a checkpoint signs tree size 30 but the log ends at 25",
    )


async def test_a_deleted_tail_with_a_lowered_head_is_still_caught_by_its_checkpoint(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    # A careful administrator also rewinds the head to the new end: the signed checkpoint at 30
    # still names records that are gone.
    await tamper(
        log.db,
        "DELETE FROM audit.payloads WHERE seq >= 25",
        "DELETE FROM audit.records WHERE seq >= 25",
        "UPDATE audit.head SET size = 25,"
        " last_hash = (SELECT leaf_hash FROM audit.records WHERE seq = 24)",
    )

    assert await verdict_of(log, principal_for) == (
        25,
        "a checkpoint signs tree size 30 but the log ends at 25",
    )


async def test_two_rows_that_exchanged_seqs_are_named_at_the_first(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    # Each record keeps its payload, so its payload hash still matches; its link does not.
    await tamper(log.db, *swap_seqs("records", 13, 14), *swap_seqs("payloads", 13, 14))

    assert await verdict_of(log, principal_for) == (
        13,
        "prev_hash does not match the previous record's leaf hash",
    )


async def test_a_forged_row_spliced_in_with_a_rehashed_chain_fails_at_its_checkpoint(
    log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    # The forger shifts seqs 13.. up by one, inserts a well-formed record at 13 and recomputes
    # every later prev_hash and leaf_hash and the head: the chain is consistent again. Only the
    # checkpoint signed at size 20 disagrees, and a Merkle root cannot say which of its leaves
    # changed, so the honest first bad seq is 10, where the first failing checkpoint's
    # interval [10, 20) begins (the one signed at 10 still holds).
    await tamper(log.db, *shift_up("records", 13), *shift_up("payloads", 13))
    await tamper(log.db, *forge_at(await read_all(log), 13))
    await tamper(log.db, *rechain(await read_all(log), 14))

    assert await verdict_of(log, principal_for) == (
        10,
        "checkpoint at tree size 20: the records in [10, 20) do not reproduce the signed root",
    )


def swap_seqs(table: str, first: int, second: int) -> list[str]:
    # In three steps: the primary key is checked row by row.
    return [
        f"UPDATE audit.{table} SET seq = -1 WHERE seq = {first}",
        f"UPDATE audit.{table} SET seq = {first} WHERE seq = {second}",
        f"UPDATE audit.{table} SET seq = {second} WHERE seq = -1",
    ]


def shift_up(table: str, start: int) -> list[str]:
    return [
        f"UPDATE audit.{table} SET seq = -seq - 1 WHERE seq >= {start}",
        f"UPDATE audit.{table} SET seq = -seq WHERE seq < 0",
    ]


async def read_all(log: AuditLog) -> list[Record]:
    async with log.db.transaction() as session:
        return await repository.page(session, after_seq=-1, limit=1000)


def forge_at(found: list[Record], seq: int) -> list[str]:
    before = found[seq - 1]
    event = dataclasses.replace(
        before.event, event_id=str(uuid.uuid4()), target="action/forged", payload_json='{"n": 7}'
    )
    forged = seal(seq, event, before.leaf_hash)
    columns = "occurred_at, actor, action, outcome, trace_id, source"
    return [
        f"INSERT INTO audit.records (seq, event_id, target, payload_sha256, prev_hash, leaf_hash,"
        f" {columns}) SELECT {seq}, '{event.event_id}', 'action/forged',"
        f" '{forged.payload_sha256}', '{forged.prev_hash}', '{forged.leaf_hash}', {columns}"
        f" FROM audit.records WHERE seq = {seq - 1}",
        f"INSERT INTO audit.payloads (seq, payload_json) VALUES ({seq}, '{event.payload_json}')",
    ]


def rechain(found: list[Record], start: int) -> list[str]:
    statements, prev = [], found[start - 1].leaf_hash
    for record in found[start:]:
        resealed = seal(record.seq, record.event, prev)
        statements.append(
            f"UPDATE audit.records SET prev_hash = '{prev}', leaf_hash = '{resealed.leaf_hash}'"
            f" WHERE seq = {record.seq}"
        )
        prev = resealed.leaf_hash
    statements.append(f"UPDATE audit.head SET size = {len(found)}, last_hash = '{prev}'")
    return statements
