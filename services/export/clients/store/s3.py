"""Exports kept in an S3 bucket (AWS, MinIO, Ceph or any S3-compatible server) with Object Lock:
each file is the object `<prefix><export id>/<name>`, written in COMPLIANCE mode with a
retain-until date `retention_days` ahead, so no one, the bucket's owner and the root account
included, can delete that version or shorten its retention before then (SEC 17a-4(f), FINRA).
`open` refuses a bucket that is missing or has no Object Lock.

`publish` returns the version id each upload made (s3_upload.py), which the service records
with the manifest; `copy` reads exactly those versions. So whoever holds the same credentials
can add a newer version or a delete marker, but the service still reads the locked version it
wrote. Nothing is ever deleted: `discard` leaves a failed export's objects where they are
(locked, they could not go before their retention ends anyway), and the service needs no
s3:DeleteObject.

boto3 blocks: every call runs in a worker thread. Files stream from and to disk (multipart
above 8 MiB), never whole in memory. Each object's lock is read back after its upload.
Credentials come from boto3's own chain. The endpoint's host is judged by the egress policy
before every operation; with an endpoint URL set, S3 region redirects are not followed."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from runtime.egress import EgressPolicy, Refused, Unresolvable
from services.export.clients.store import StoreError
from services.export.clients.store.directory import remove_tree
from services.export.clients.store.s3_upload import upload
from services.export.domain.exports import SUMS
from services.export.settings import S3, S3Settings

COMPLIANCE = "COMPLIANCE"
SLACK = timedelta(seconds=1)
log = logging.getLogger(__name__)
CHAIN = "boto3's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity, instance profile)"


class S3Store:
    def __init__(self, settings: S3Settings, scratch: Path, egress: EgressPolicy) -> None:
        """`scratch`: a local directory for the copies `copy` downloads (TRADEOPS_EXPORT_DIR)."""
        self.settings, self._scratch, self._egress = settings, scratch, egress
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=60,
            # Path-style keeps bucket names out of DNS: what MinIO and Ceph expect by default.
            s3={"addressing_style": "path"} if settings.endpoint_url else {},
        )
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url or None,
            region_name=settings.region or None,
            config=config,
        )
        self.endpoint = str(self._client.meta.endpoint_url)
        if settings.endpoint_url:
            self._client.meta.events.register("before-call.s3", _no_region_redirect)

    @classmethod
    def open(cls, settings: S3Settings, scratch: Path, egress: EgressPolicy) -> S3Store:
        """The store, once the bucket is known to exist with Object Lock enabled; StoreError
        otherwise. Blocking: for start-up, before the service serves anything."""
        store = cls(settings, scratch, egress)
        store._check_bucket()
        return store

    def location(self, export_id: str) -> str:
        return f"s3://{self.settings.bucket}/{self._key(export_id)}"

    async def publish(self, staging: Path, export_id: str) -> dict[str, str]:
        return await asyncio.to_thread(self._upload, staging, export_id)

    @asynccontextmanager
    async def copy(self, export_id: str, versions: Mapping[str, str]) -> AsyncIterator[Path]:
        await asyncio.to_thread(self._scratch.mkdir, parents=True, exist_ok=True)
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, ".fetch", "", self._scratch))
        try:
            await asyncio.to_thread(self._download, export_id, versions, folder)
            yield folder
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def discard(self, export_id: str) -> None:
        log.warning(
            "export %s: its objects stay in %s, locked until their retention ends (the service "
            "deletes nothing in the bucket); no version of them was recorded, so nothing reads "
            "them",
            export_id,
            self.location(export_id),
        )

    def _key(self, export_id: str, name: str = "") -> str:
        return f"{self.settings.prefix}{export_id}/{name}"

    def _check_bucket(self) -> None:
        bucket = self.settings.bucket
        where = f"{S3}BUCKET={bucket} at {self.endpoint}"
        with self._failing(where):
            try:
                self._client.head_bucket(Bucket=bucket)
            except ClientError as exc:
                if _code(exc) in ("404", "NoSuchBucket"):
                    raise StoreError(f"{where}: no such bucket") from None
                raise
            try:
                found = self._client.get_object_lock_configuration(Bucket=bucket)
                enabled = found.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
            except ClientError as exc:
                if _code(exc) != "ObjectLockConfigurationNotFoundError":
                    raise
                enabled = None
        if enabled != "Enabled":
            raise StoreError(
                f"{where}: the bucket does not have Object Lock enabled, so exports there could "
                "be deleted or overwritten; use a bucket created with Object Lock "
                "(ObjectLockEnabledForBucket), or unset the variable to keep exports in "
                "TRADEOPS_EXPORT_DIR"
            )

    def _upload(self, staging: Path, export_id: str) -> dict[str, str]:
        until = datetime.now(UTC) + timedelta(days=self.settings.retention_days)
        extra = {"ObjectLockMode": COMPLIANCE, "ObjectLockRetainUntilDate": until}
        # SHA256SUMS last: a listing that holds it holds every file.
        files = sorted(staging.iterdir(), key=lambda path: (path.name == SUMS, path.name))
        versions: dict[str, str] = {}
        with self._failing(f"uploading export {export_id} to {self.location(export_id)}"):
            for path in files:
                key = self._key(export_id, path.name)
                versions[path.name] = upload(self._client, self.settings.bucket, key, path, extra)
                self._ensure_locked(key, versions[path.name], until)
        remove_tree(staging)
        return versions

    def _ensure_locked(self, key: str, version: str, until: datetime) -> None:
        """Checks the version is locked as asked; sets the lock where the server did not (some
        S3-compatible servers drop it from multipart uploads), so nothing is sealed unlocked."""
        head = self._client.head_object(Bucket=self.settings.bucket, Key=key, VersionId=version)
        held = head.get("ObjectLockRetainUntilDate")
        # Servers may keep the date to the second or millisecond only.
        if head.get("ObjectLockMode") == COMPLIANCE and held is not None and held >= until - SLACK:
            return
        self._client.put_object_retention(
            Bucket=self.settings.bucket,
            Key=key,
            VersionId=version,
            Retention={"Mode": COMPLIANCE, "RetainUntilDate": until},
        )

    def _download(self, export_id: str, versions: Mapping[str, str], folder: Path) -> None:
        bucket = self.settings.bucket
        with self._failing(f"reading export {export_id} from {self.location(export_id)}"):
            for name, version in sorted(versions.items()):
                key = self._key(export_id, name)
                got = self._client.get_object(Bucket=bucket, Key=key, VersionId=version)
                with (folder / name).open("wb") as out:
                    for chunk in got["Body"].iter_chunks(1024 * 1024):
                        out.write(chunk)

    @contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """Judges the endpoint by the egress policy, then turns boto3's errors into a
        StoreError that says what was done, where, and why it failed."""
        try:
            self._egress.addresses_blocking(urlsplit(self.endpoint).hostname or "")
            yield
        except (Refused, Unresolvable) as exc:
            raise StoreError(f"{what}: {exc}") from None
        except NoCredentialsError:
            raise StoreError(f"{what}: no credentials found in {CHAIN}") from None
        except ClientError as exc:
            error: dict[str, Any] = exc.response.get("Error", {})
            reason = f"{error.get('Code', '')} {error.get('Message', '')}".strip()
            raise StoreError(f"{what}: {reason or exc}") from None
        except (BotoCoreError, Boto3Error, OSError) as exc:
            raise StoreError(f"{what}: {exc}") from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _no_region_redirect(context: dict[str, Any], **_: Any) -> None:
    """Marks a request as redirected already, so botocore's S3 region redirector leaves it be:
    the endpoint named in the settings is the one the egress policy judged, and an answer
    naming another region must not make boto3 sign and send the request again elsewhere."""
    context.setdefault("s3_redirect", {})["redirected"] = True
