"""Delivery to a directory destination, verification by fetch-back, and attempt history, with
exports kept in the service's directory and in an S3 bucket with Object Lock alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from services.export.service.kept import kept_copy
from services.export.service.queries import list_attempts
from services.export.service.verification.batch import verify_batch
from services.export.service.verification.fetch_back import verify_delivered
from tests.export.s3 import moto_s3, s3_credentials, s3_store
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

__all__ = ["moto_s3", "s3_credentials", "s3_store"]  # the S3 store's fixtures, reused


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


@pytest.fixture(params=["directory", "s3"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> DeliveryConfig:
    vault = DirectoryDestination("vault", tmp_path / "vault")
    store = request.getfixturevalue("s3_store") if request.param == "s3" else None
    return DeliveryConfig({"vault": vault}, tmp_path / "exports", keys=PINNED, store=store)


async def signed(db: Database, config: DeliveryConfig, caller: Principal, to: str = "") -> Any:
    return await signed_export(db, config.export_dir, caller, to, store=config.store)


async def kept(db: Database, config: DeliveryConfig, export_id: str) -> dict[str, str]:
    """The digests of the files the store keeps for the export, read through the store."""
    async with kept_copy(db, config.kept_in, export_id) as files:
        return digests(files)


async def test_a_signed_export_arrives_in_the_directory_byte_for_byte(
    export_db: Database, config: DeliveryConfig, carol: Principal, tmp_path: Path
) -> None:
    export = await signed(export_db, config, carol, "vault")

    delivered = await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    copy = tmp_path / "vault" / export.id
    assert delivered.state is ExportState.DELIVERED
    assert delivered.location == str(copy)
    assert digests(copy) == await kept(export_db, config, export.id)
    assert leftovers(tmp_path / "vault") == []
    [attempt] = await list_attempts(export_db, export.id)
    size = sum((copy / name).stat().st_size for name in digests(copy))
    assert (attempt.outcome, attempt.destination, attempt.bytes) == ("delivered", "vault", size)
    event = (await events_for(export_db, f"export/{export.id}"))[-1]
    assert (event["action"], event["actor"]["subject"]) == ("export.delivered", "carol")


async def test_a_redelivery_replaces_the_copy_whole_with_the_same_bytes(
    export_db: Database, config: DeliveryConfig, carol: Principal, tmp_path: Path
) -> None:
    export = await signed(export_db, config, carol, "vault")
    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)
    copy = tmp_path / "vault" / export.id
    (copy / "actions.jsonl").write_bytes(b"garbled by the far side\n")

    again = await redeliver(export_db, config, export.id, "", actor=carol, now=T0)

    assert again.state is ExportState.DELIVERED
    assert digests(copy) == await kept(export_db, config, export.id)
    assert leftovers(tmp_path / "vault") == []
    outcomes = [a.outcome for a in await list_attempts(export_db, export.id)]
    assert outcomes == ["delivered", "delivered"]


async def test_only_signed_exports_to_known_destinations_can_be_delivered(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    unsigned = new_export(ExportRequest(kind="actions_report"), carol.subject)
    async with export_db.transaction() as session:
        await repository.add(session, unsigned)
    sealed = await signed(export_db, config, carol)

    with pytest.raises(Conflict, match="never signed"):
        await deliver(export_db, config, unsigned.id, "vault", actor=carol, now=T0)
    with pytest.raises(InvalidArgument, match="unknown destination 'moon'"):
        await deliver(export_db, config, sealed.id, "moon", actor=carol, now=T0)
    with pytest.raises(InvalidArgument, match="has no destination"):
        await redeliver(export_db, config, sealed.id, "", actor=carol, now=T0)
    with pytest.raises(NotFound):
        await list_attempts(export_db, "00000000-0000-4000-8000-000000000000")


async def test_a_delivered_copy_that_fetches_back_intact_makes_the_export_verified(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    export = await signed(export_db, config, carol, "vault")
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
    export = await signed(export_db, config, carol, "vault")
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

    assert digests(copy) == await kept(export_db, config, export.id)
    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.VERIFIED
    assert [r.ok for r in await verification_rows(export_db, export.id)] == [False, True]
    job = await job_of(export_db, export.id)
    assert (job.verify, job.failures, job.next_attempt_at) == (False, 0, None)


# In a bucket the locked version recorded at sealing is read, whatever is written over it since
# (test_s3_store.py): only the directory can be damaged behind the service's back.
@pytest.mark.parametrize("config", ["directory"], indirect=True)
async def test_an_export_without_destination_is_verified_from_the_copy_the_store_keeps(
    export_db: Database, config: DeliveryConfig, carol: Principal
) -> None:
    intact = await signed(export_db, config, carol)
    damaged = await signed(export_db, config, carol)
    (config.export_dir / damaged.id / "actions.jsonl").write_bytes(b"")

    verdicts = await verify_batch(
        export_db, config, ids=[intact.id, damaged.id], actor=carol, now=T0
    )

    assert [v.ok for v in verdicts] == [True, False]
    assert verdicts[0].fetched_from == config.kept_in.location(intact.id)
    assert verdicts[0].fetched_from.startswith(str(config.export_dir))
    async with export_db.transaction() as session:
        found = await repository.get(session, damaged.id)
    assert found is not None
    assert found.state is ExportState.FAILED
    assert found.failure_reason.startswith("verification failed: actions.jsonl")
