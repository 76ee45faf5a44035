"""Exports kept in an S3 bucket with Object Lock, against a real S3-compatible server (moto in
server mode, tests/export/s3.py): every object is locked in COMPLIANCE mode for the retention,
multipart uploads included; the lock refuses deletion (a governance bypass changes nothing);
reads take the versions recorded at sealing, whatever is written over them since; a sweep
leaves what a failed export uploaded (nothing is deleted); a missing bucket, one
without Object Lock and an endpoint outside the egress policy are refused at start."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from runtime.auth import Principal
from runtime.db import Database
from runtime.egress import parse
from runtime.errors import Unavailable
from runtime.settings import SettingsError
from services.export.clients.destinations.directory import DirectoryDestination
from services.export.clients.store import StoreError
from services.export.clients.store.s3 import S3Store
from services.export.domain.exports import MANIFEST, PUBLIC_KEY, SIGNATURE, SUMS, ExportState
from services.export.repository import exports as repository
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.send import deliver, redeliver
from services.export.service.kept import kept_copy
from services.export.service.queries import list_attempts
from services.export.service.sweeping import sweep_stale
from services.export.service.verification.fetch_back import verify_delivered
from services.export.settings import Settings
from tests.export.s3 import CREDENTIALS, MotoS3, moto_s3, s3_credentials, s3_store, versions
from tests.export.test_delivery_support import (
    PINNED,
    T0,
    digests,
    signed_export,
    verification_rows,
)
from tests.export.test_stale_exports import LONG_AGO, STALE_AFTER, put_export, staging_of
from tests.keys import Keys

__all__ = ["moto_s3", "s3_credentials", "s3_store"]
SIX_YEARS = timedelta(days=2190)
# Above boto3's 8 MiB multipart threshold: this file goes up in parts.
LARGE = b'{"id":1,"desk":"Zurich rates"}\n' * (9 * 1024 * 1024 // 31)


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


def prefix(store: S3Store, export_id: str) -> str:
    return f"{store.settings.prefix}{export_id}/"


async def test_every_file_of_a_signed_export_is_locked_in_compliance_mode_for_six_years(
    export_db: Database, s3_store: S3Store, moto_s3: MotoS3, carol: Principal, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    export = await signed_export(export_db, tmp_path / "exports", carol, data=LARGE, store=s3_store)
    after = datetime.now(UTC)

    client, bucket = moto_s3.client(), s3_store.settings.bucket
    stored = versions(client, bucket, prefix(s3_store, export.id))
    names = sorted(key.rsplit("/", 1)[1] for key, _ in stored)
    assert names == sorted(["actions.jsonl", MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS])
    for key, version in stored:
        head = client.head_object(Bucket=bucket, Key=key, VersionId=version)
        assert head["ObjectLockMode"] == "COMPLIANCE", key
        until = head["ObjectLockRetainUntilDate"]
        assert before + SIX_YEARS - timedelta(seconds=1) <= until <= after + SIX_YEARS
    large = client.head_object(Bucket=bucket, Key=f"{prefix(s3_store, export.id)}actions.jsonl")
    assert large["ContentLength"] == len(LARGE)
    assert "-" in large["ETag"]  # a multipart upload's ETag: the lock holds there too
    assert list((tmp_path / "exports").iterdir()) == []  # staging gone, nothing kept locally


async def test_object_lock_refuses_to_delete_a_locked_export_even_with_governance_bypass(
    export_db: Database, s3_store: S3Store, moto_s3: MotoS3, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, tmp_path / "exports", carol, store=s3_store)
    client, bucket = moto_s3.client(), s3_store.settings.bucket
    stored = versions(client, bucket, prefix(s3_store, export.id))

    for key, version in stored:
        for bypass in (False, True):
            with pytest.raises(ClientError) as refused:
                client.delete_object(
                    Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=bypass
                )
            assert refused.value.response["Error"]["Code"] == "AccessDenied"
    batch = client.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": key, "VersionId": version} for key, version in stored]},
        BypassGovernanceRetention=True,
    )

    assert len(batch.get("Errors", [])) == len(stored)
    assert versions(client, bucket, prefix(s3_store, export.id)) == stored
    config = DeliveryConfig({}, tmp_path / "exports", keys=PINNED, store=s3_store)
    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)
    assert (verdict.ok, verdict.fetched_from) == (True, s3_store.location(export.id))


async def test_new_versions_and_delete_markers_made_with_the_service_credentials_change_nothing(
    export_db: Database, s3_store: S3Store, moto_s3: MotoS3, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, tmp_path / "exports", carol, store=s3_store)
    # The very credentials the service holds (CREDENTIALS): someone who has them can add a
    # version over a locked object or hide it behind a delete marker, never change the version.
    client, bucket, base = moto_s3.client(), s3_store.settings.bucket, prefix(s3_store, export.id)
    published = {
        key.rsplit("/", 1)[1]: client.get_object(Bucket=bucket, Key=key, VersionId=version)
        for key, version in versions(client, bucket, base)
    }
    original = {
        name: hashlib.sha256(got["Body"].read()).hexdigest() for name, got in published.items()
    }
    client.put_object(Bucket=bucket, Key=f"{base}actions.jsonl", Body=b'{"id":0,"forged":1}\n')
    client.delete_object(Bucket=bucket, Key=f"{base}{SUMS}")
    client.delete_object(Bucket=bucket, Key=f"{base}{MANIFEST}")
    assert len(versions(client, bucket, base)) == len(original) + 1
    vault = DirectoryDestination("vault", tmp_path / "vault")
    config = DeliveryConfig({"vault": vault}, tmp_path / "exports", keys=PINNED, store=s3_store)

    verdict = await verify_delivered(export_db, config, export.id, actor=carol, now=T0)
    await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)
    (tmp_path / "vault" / export.id / "actions.jsonl").write_bytes(b"garbled\n")
    await redeliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    assert (verdict.ok, verdict.problems) == (True, ())
    assert digests(tmp_path / "vault" / export.id) == original
    async with export_db.transaction() as session:
        found = await repository.get(session, export.id)
    assert found is not None
    assert found.state is ExportState.DELIVERED


@pytest.mark.xfail(
    strict=True,
    raises=pytest.fail.Exception,  # "DID NOT RAISE" only: any other error fails
    reason="moto 5.2 accepts PutObjectRetention with an earlier date on a COMPLIANCE object; "
    "AWS S3 refuses it (AccessDenied). Strict: this fails once moto enforces it.",
)
async def test_object_lock_refuses_to_shorten_the_retention_of_a_locked_export(
    export_db: Database, s3_store: S3Store, moto_s3: MotoS3, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, tmp_path / "exports", carol, store=s3_store)
    client, bucket = moto_s3.client(), s3_store.settings.bucket
    [(key, version), *_] = versions(client, bucket, prefix(s3_store, export.id))
    sooner = {"Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=1)}

    for bypass in (False, True):
        with pytest.raises(ClientError):
            client.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=version,
                Retention=sooner,
                BypassGovernanceRetention=bypass,
            )


async def test_a_swept_export_leaves_its_locked_objects_untouched_and_says_so(
    export_db: Database,
    s3_store: S3Store,
    moto_s3: MotoS3,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Its upload finished, then its process died before the SIGNED row was committed.
    stuck = await put_export(export_db, ExportState.GENERATING, quiet_for=LONG_AGO)
    await s3_store.publish(staging_of(tmp_path / "exports", stuck), stuck.id)
    client, bucket = moto_s3.client(), s3_store.settings.bucket
    uploaded = versions(client, bucket, prefix(s3_store, stuck.id))

    swept = await sweep_stale(
        export_db, tmp_path / "exports", datetime.now(UTC), STALE_AFTER, store=s3_store
    )

    assert swept == 1
    async with export_db.transaction() as session:
        found = await repository.get(session, stuck.id)
    assert found is not None
    assert found.state is ExportState.FAILED
    # The service holds no s3:DeleteObject: nothing is deleted or hidden, and it says so.
    assert versions(client, bucket, prefix(s3_store, stuck.id)) == uploaded
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix(s3_store, stuck.id))
    assert listed.get("KeyCount") == len(uploaded)
    assert f"export {stuck.id}: its objects stay in {s3_store.location(stuck.id)}" in caplog.text
    # No version was recorded for it: a read through the service finds nothing.
    async with kept_copy(export_db, s3_store, stuck.id) as files:
        assert list(files.iterdir()) == []


async def test_a_store_that_cannot_be_read_fails_the_attempt_and_verifies_nothing(
    export_db: Database, s3_store: S3Store, moto_s3: MotoS3, carol: Principal, tmp_path: Path
) -> None:
    export = await signed_export(export_db, tmp_path / "exports", carol, store=s3_store)
    # The same service, its bucket gone from under it since it started.
    gone = S3Store(moto_s3.settings("bucket-gone"), tmp_path / "exports", parse(""))
    vault = DirectoryDestination("vault", tmp_path / "vault")
    config = DeliveryConfig({"vault": vault}, tmp_path / "exports", keys=PINNED, store=gone)

    with pytest.raises(
        Unavailable, match=r"reading export .* from s3://bucket-gone/.*NoSuchBucket"
    ):
        await verify_delivered(export_db, config, export.id, actor=carol, now=T0)
    after = await deliver(export_db, config, export.id, "vault", actor=carol, now=T0)

    assert await verification_rows(export_db, export.id) == []
    assert after.state is ExportState.SIGNED  # a retry is scheduled; nothing was lost
    [attempt] = await list_attempts(export_db, export.id)
    assert attempt.outcome == "failed"
    assert "NoSuchBucket" in attempt.detail
    assert not (tmp_path / "vault" / export.id).exists()
    assert list((tmp_path / "exports").iterdir()) == []  # no downloaded copy left behind


def test_a_missing_bucket_or_one_without_object_lock_is_refused_with_what_to_do(
    moto_s3: MotoS3, s3_credentials: dict[str, str], tmp_path: Path
) -> None:
    policy = parse("")
    unlocked = moto_s3.bucket(locked=False)

    with pytest.raises(StoreError, match="no such bucket"):
        S3Store.open(moto_s3.settings("no-such-bucket"), tmp_path, policy)
    with pytest.raises(StoreError) as refused:
        S3Store.open(moto_s3.settings(unlocked), tmp_path, policy)
    assert f"TRADEOPS_EXPORT_S3_BUCKET={unlocked} at {moto_s3.url}" in str(refused.value)
    assert "does not have Object Lock enabled" in str(refused.value)


def test_the_export_service_refuses_to_start_on_a_bucket_without_object_lock(
    moto_s3: MotoS3, keys: Keys, tmp_path: Path
) -> None:
    unlocked = moto_s3.bucket(locked=False)
    env = {
        **os.environ,
        **keys.env(),
        **CREDENTIALS,
        "TRADEOPS_EXPORT_DATABASE_URL": "postgresql://export@127.0.0.1:1/tradeops",
        "TRADEOPS_EXPORT_DIR": str(tmp_path / "exports"),
        "TRADEOPS_EXPORT_SIGNING_KEY_FILE": str(tmp_path / "export-signing-key.pem"),
        "TRADEOPS_EXPORT_CREATE_DEV_KEY": "1",
        "TRADEOPS_EXPORT_S3_BUCKET": unlocked,
        "TRADEOPS_EXPORT_S3_ENDPOINT_URL": moto_s3.url,
    }

    done = subprocess.run(
        [sys.executable, "-m", "services.export"], env=env, capture_output=True, timeout=60
    )

    assert done.returncode != 0
    said = done.stderr.decode(errors="replace")
    assert f"TRADEOPS_EXPORT_S3_BUCKET={unlocked}" in said
    assert "does not have Object Lock enabled" in said
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in said + done.stdout.decode(errors="replace")


def test_the_endpoint_is_judged_by_the_egress_policy(
    moto_s3: MotoS3, s3_credentials: dict[str, str], tmp_path: Path
) -> None:
    port = moto_s3.url.rsplit(":", 1)[1]
    outside = {
        "TRADEOPS_EGRESS_ALLOW": "10.0.0.0/8",
        "TRADEOPS_EXPORT_S3_BUCKET": moto_s3.bucket(),
    }

    refused = r"TRADEOPS_EXPORT_S3_ENDPOINT_URL: url host 127\.0\.0\.1 is not allowed"
    with pytest.raises(SettingsError, match=refused):
        Settings.from_env({**outside, "TRADEOPS_EXPORT_S3_ENDPOINT_URL": moto_s3.url})
    # A name passes at definition (it might resolve into 10/8); its addresses are judged next.
    named = Settings.from_env(
        {**outside, "TRADEOPS_EXPORT_S3_ENDPOINT_URL": f"http://localhost:{port}"}
    )
    assert named.s3 is not None
    with pytest.raises(StoreError, match=r"url host localhost \(127\.0\.0\.1\) is not allowed"):
        S3Store.open(named.s3, tmp_path, named.egress)
