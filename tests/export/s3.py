"""A real S3-compatible server for the export store's tests: moto in server mode, run as a process
of its own on a free loopback port, and buckets made on it with Object Lock (or, to be refused,
without). The service side finds its credentials the way it does in production, through
boto3's chain: here the AWS_* variables of CREDENTIALS."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from runtime.egress import DEFAULT
from runtime.pgserver import free_port
from services.export.clients.store.s3 import S3Store
from services.export.settings import S3Settings

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "tradeops-test-key",
    "AWS_SECRET_ACCESS_KEY": "tradeops-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never ask a cloud metadata address for credentials from a test machine.
    "AWS_EC2_METADATA_DISABLED": "true",
}


class MotoS3:
    """moto's server on loopback `port` (a free one when none is given), logging to `log`; the
    one starter for every test that needs S3 (tests/k8s/s3.py too)."""

    def __init__(self, log: Path, port: int | None = None) -> None:
        self.url = f"http://127.0.0.1:{port or free_port()}"
        self._log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port = self.url.rsplit(":", 1)[1]
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto exited: {self._log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"moto did not answer on {self.url}; see {self._log}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def client(self) -> Any:
        return self.client_for(self.url)

    @staticmethod
    def client_for(url: str) -> Any:
        """An S3 client of the bucket's owner, for what the tests do behind the service's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def bucket(self, *, locked: bool = True) -> str:
        name = f"exports-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=locked)
        return name

    def settings(self, bucket: str) -> S3Settings:
        return S3Settings(bucket, endpoint_url=self.url)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    server = MotoS3(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return CREDENTIALS


@pytest.fixture
def s3_store(moto_s3: MotoS3, s3_credentials: dict[str, str], tmp_path: Path) -> S3Store:
    """A store on a fresh bucket with Object Lock, its scratch folder `tmp_path`/exports."""
    return S3Store.open(moto_s3.settings(moto_s3.bucket()), tmp_path / "exports", DEFAULT)


def versions(client: Any, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """(key, version id) of every version of every object under `prefix`, delete markers not
    included."""
    found = client.list_object_versions(Bucket=bucket, Prefix=prefix).get("Versions", [])
    return sorted((v["Key"], v["VersionId"]) for v in found)
