"""Delivery to a directory destination, verification by fetch-back, and attempt history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.export.clients.destinations.directory import DirectoryDestination
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest, new_export
from services.export.repository import exports as repository
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.retries import run_due
from services.export.service.delivery.send import deliver, redeliver
from services.export.service.queries import list_attempts
from services.export.service.verification.batch import verify_batch
from services.export.service.verification.fetch_back import verify_delivered
from tests.export.test_delivery_support import (
    PINNED,
    T0,
    digests,
    events_for,
    job_of,
    leftovers,
    signed_export,
    verification_rows,
)


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


@pytest.fixture
def config(tmp_path: Path) -> DeliveryConfig:
    vault = DirectoryDestination("vault", tmp_path / "vault")
    return DeliveryConfig({"vault": vault}, tmp_path / "exports", keys=PINNED)


async def test_a_signed_export_arrives_in_the_directory_byte_for_byte(
    export_db: Database, config: DeliveryConfig, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, config.export_dir, carol, "vault")

    delivered = await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    copy = tmp_path / "vault" / export.id
    assert delivered.state is ExportState.DELIVERED
    assert delivered.location == str(copy)
    assert digests(copy) == digests(config.export_dir / export.id)
    assert leftovers(tmp_path / "vault") == []
    [attempt] = await list_attempts(export_db, export.id)
    size = sum((config.export_dir / export.id / name).stat().st_size for name in digests(copy))
    assert (attempt.outcome, attempt.destination, attempt.bytes) == ("delivered", "vault", size)
    event = (await events_for(export_db, f"export/{export.id}"))[-1]
    assert (event["action"], event["actor"]["subject"]) == ("export.delivered", "carol")


async def test_a_redelivery_replaces_the_copy_whole_with_the_same_bytes(
    export_db: Database, config: DeliveryConfig, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, config.export_dir, carol, "vault")
    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)
    copy = tmp_path / "vault" / export.id
    (copy / "actions.jsonl").write_bytes(b"garbled by the far side\n")

    again = await redeliver(export_db, config, export.id, "", actor=carol, now=T0)

    assert again.state is ExportState.DELIVERED
    assert digests(copy) == digests(config.export_dir / export.id)
    assert leftovers(tmp_path / "vault") == []
    outcomes = [a.outcome for a in await list_attempts(export_db, export.id)]
    assert outcomes == ["delivered", "delivered"]


async def test_only_signed_exports_to_known_destinations_can_be_delivered(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    unsigned = new_export(ExportRequest(kind="actions_report"), carol.subject)
    async with export_db.transaction() as session:
        await repository.add(session, unsigned)
    signed = await signed_export(export_db, config.export_dir, carol)

    with pytest.raises(Conflict, match="never signed"):
        await deliver(export_db, config, unsigned.id, "vault", actor=carol, now=T0)
    with pytest.raises(InvalidArgument, match="unknown destination 'moon'"):
        await deliver(export_db, config, signed.id, "moon", actor=carol, now=T0)
    with pytest.raises(InvalidArgument, match="has no destination"):
        await redeliver(export_db, config, signed.id, "", actor=carol, now=T0)
    with pytest.raises(NotFound):
        await list_attempts(export_db, "00000000-0000-4000-8000-000000000000")


async def test_a_delivered_copy_that_fetches_back_intact_makes_the_export_verified(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    export = await signed_export(export_db, config.export_dir, carol, "vault")
    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)

    assert (verdict.ok, verdict.problems) == (True, ())
    assert verdict.fetched_from.endswith(f"vault/{export.id}")
    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.VERIFIED
    [row] = await verification_rows(export_db, export.id)
    assert (row.ok, row.actor) == (True, "carol")
    actions = [e["action"] for e in await events_for(export_db, f"export/{export.id}")]
    assert actions[-1] == "export.verified"


async def test_a_garbled_copy_fails_verification_and_the_worker_repairs_it_with_the_same_bytes(
    export_db: Database, config: DeliveryConfig, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, config.export_dir, carol, "vault")
    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)
    copy = tmp_path / "vault" / export.id
    (copy / "actions.jsonl").write_bytes(b'{"id":0,"desk":"edited"}\n')

    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)

    assert not verdict.ok
    assert "actions.jsonl: SHA-256 does not match the manifest" in verdict.problems
    job = await job_of(export_db, export.id)
    assert (job.verify, job.failures) == (True, 1)
    assert job.next_attempt_at > T0
    assert await run_due(export_db, config, T0) == 0  # not before the backoff

    assert await run_due(export_db, config, job.next_attempt_at) == 1

    assert digests(copy) == digests(config.export_dir / export.id)
    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.VERIFIED
    assert [r.ok for r in await verification_rows(export_db, export.id)] == [False, True]
    job = await job_of(export_db, export.id)
    assert (job.verify, job.failures, job.next_attempt_at) == (False, 0, None)


async def test_an_export_without_destination_is_verified_from_its_own_directory(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    intact = await signed_export(export_db, config.export_dir, carol)
    damaged = await signed_export(export_db, config.export_dir, carol)
    (config.export_dir / damaged.id / "actions.jsonl").write_bytes(b"")

    verdicts = await verify_batch(
        export_db, config, ids=[intact.id, damaged.id], actor=carol, now=T0
    )

    assert [v.ok for v in verdicts] == [True, False]
    assert verdicts[0].fetched_from == str(config.export_dir / intact.id)
    async with export_db.transaction() as session:
        found = await repository.get(session, damaged.id)
    assert found is not None
    assert found.state is ExportState.FAILED
    assert found.failure_reason.startswith("verification failed: actions.jsonl")
