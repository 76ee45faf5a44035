"""Automatic redelivery: a delivery that fails while the SFTP server is down is retried by the
delivery worker with backoff once it is back, sending the same bytes; retries end in FAILED."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from runtime.auth import Principal
from runtime.db import Database
from services.export.clients.destinations.directory import DirectoryDestination
from services.export.clients.destinations.sftp import SftpDestination
from services.export.domain.delivery import RetryPolicy
from services.export.domain.exports import ExportState
from services.export.repository import exports as repository
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.retries import run_due
from services.export.service.delivery.send import deliver
from services.export.service.queries import list_attempts
from tests.export.sshd import Sshd
from tests.export.test_delivery_support import (
    PINNED,
    T0,
    digests,
    events_for,
    job_of,
    signed_export,
)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "sshd")
    server.folder.mkdir()
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


async def test_a_delivery_that_failed_while_the_server_was_down_succeeds_once_it_is_back(
    export_db: Database, carol: Principal, tmp_path: Path, sshd: Sshd
) -> None:
    archive = SftpDestination(
        "archive",
        "127.0.0.1",
        sshd.port,
        sshd.user,
        str(sshd.remote_dir),
        sshd.client_key,
        sshd.known_hosts,
    )
    config = DeliveryConfig({"archive": archive}, tmp_path / "exports", keys=PINNED)
    export = await signed_export(export_db, config.export_dir, carol, "archive")
    local = config.export_dir / export.id
    before = digests(local)
    sshd.stop()

    failed = await deliver(export_db, config, export.id, "archive", actor=carol, now=T0)

    assert failed.state is ExportState.SIGNED
    job = await job_of(export_db, export.id)
    assert job.failures == 1
    assert T0 + timedelta(seconds=15) <= job.next_attempt_at <= T0 + timedelta(seconds=30)
    assert await run_due(export_db, config, T0 + timedelta(seconds=1)) == 0

    sshd.start()
    assert await run_due(export_db, config, job.next_attempt_at) == 1

    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.DELIVERED
    assert digests(sshd.remote_dir / export.id) == before == digests(local)
    attempts = await list_attempts(export_db, export.id)
    assert [a.outcome for a in attempts] == ["failed", "delivered"]
    assert "ConnectionRefusedError" in attempts[0].detail
    events = [e for e in await events_for(export_db, f"export/{export.id}")]
    redelivered = events[-1]
    assert (redelivered["action"], redelivered["actor"]["subject"]) == (
        "export.delivered",
        "export-delivery",
    )
    assert (await job_of(export_db, export.id)).next_attempt_at is None


async def test_after_the_last_retry_the_export_is_failed_with_the_reason(
    export_db: Database, carol: Principal, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the destination folder should be")
    retry = RetryPolicy(base_s=10, cap_s=60, max_failures=3)
    config = DeliveryConfig(
        {"vault": DirectoryDestination("vault", blocked)}, tmp_path / "exports", retry, keys=PINNED
    )
    export = await signed_export(export_db, config.export_dir, carol, "vault")

    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)
    later = T0
    for _ in range(2):
        later = (await job_of(export_db, export.id)).next_attempt_at
        assert await run_due(export_db, config, later) == 1

    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.FAILED
    assert found.failure_reason.startswith(
        "delivery to vault failed 3 times; last: writing to vault failed"
    )
    assert (await job_of(export_db, export.id)).next_attempt_at is None
    assert await run_due(export_db, config, later + timedelta(days=1)) == 0


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    retry = RetryPolicy(base_s=30, cap_s=300)

    delays = [[retry.delay(n).total_seconds() for _ in range(200)] for n in (1, 2, 3, 10)]

    for (low, high), found in zip([(15, 30), (30, 60), (60, 120), (150, 300)], delays, strict=True):
        assert low <= min(found)
        assert max(found) <= high
        assert len(set(found)) > 1  # jittered, so replicas do not retry in step
