"""Delivery to a real SFTP server (a private OpenSSH sshd, see tests/export/sshd.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.auth import Principal
from runtime.db import Database
from services.export.clients.destinations.sftp import SftpDestination
from services.export.domain.exports import ExportState
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.send import deliver
from services.export.service.queries import list_attempts
from services.export.service.verification.fetch_back import verify_delivered
from tests.export.sshd import Sshd
from tests.export.test_delivery_support import PINNED, T0, digests, leftovers, signed_export


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


def sftp(sshd: Sshd, **trust: object) -> SftpDestination:
    trust = trust or {"known_hosts_file": sshd.known_hosts}
    return SftpDestination(
        "archive",
        "127.0.0.1",
        sshd.port,
        sshd.user,
        str(sshd.remote_dir),
        sshd.client_key,
        **trust,  # type: ignore[arg-type]
    )


async def test_an_export_uploaded_over_sftp_fetches_back_byte_for_byte(
    export_db: Database, carol: Principal, tmp_path: Path, sshd: Sshd
) -> None:
    config = DeliveryConfig({"archive": sftp(sshd)}, tmp_path / "exports", keys=PINNED)
    export = await signed_export(export_db, config.export_dir, carol, "archive")

    delivered = await deliver(export_db, config, export.id, "archive", actor=carol, now=T0)
    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)

    local = config.export_dir / export.id
    assert delivered.state is ExportState.DELIVERED
    assert delivered.location == f"sftp://127.0.0.1:{sshd.port}{sshd.remote_dir}/{export.id}"
    assert digests(sshd.remote_dir / export.id) == digests(local)
    assert leftovers(sshd.remote_dir) == []
    assert (verdict.ok, verdict.problems) == (True, ())
    back = tmp_path / "back"
    back.mkdir()
    await sftp(sshd).fetch_directory(export.id, back)
    assert digests(back) == digests(local)


async def test_a_pinned_host_key_fingerprint_is_enough_and_a_wrong_one_is_refused(
    export_db: Database, carol: Principal, tmp_path: Path, sshd: Sshd
) -> None:
    pinned = sftp(sshd, host_key_fingerprint=sshd.fingerprint)
    wrong = sftp(sshd, host_key_fingerprint="SHA256:" + "A" * 43)
    good = DeliveryConfig({"archive": pinned}, tmp_path / "exports", keys=PINNED)
    bad = DeliveryConfig({"archive": wrong}, tmp_path / "exports", keys=PINNED)
    first = await signed_export(export_db, good.export_dir, carol, "archive")
    second = await signed_export(export_db, good.export_dir, carol, "archive")

    ok = await deliver(export_db, good, first.id, "archive", actor=carol, now=T0)
    refused = await deliver(export_db, bad, second.id, "archive", actor=carol, now=T0)

    assert ok.state is ExportState.DELIVERED
    assert refused.state is ExportState.SIGNED
    [attempt] = await list_attempts(export_db, second.id)
    assert attempt.outcome == "failed"
    assert "HostKeyNotVerifiable" in attempt.detail
    assert not (sshd.remote_dir / second.id).exists()
