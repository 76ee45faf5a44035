"""The S3-compatible server the export pods use in the start test: moto in server mode inside the
pods' network, the bucket of the ConfigMap made with Object Lock as the README asks, with the
credentials of the Secret tradeops-s3."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx

ENDPOINT_HOST = "minio.storage.svc.cluster.local"  # an S3-compatible store in the cluster
PORT = 9000


def start(plan: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)
    client(plan).create_bucket(Bucket=plan["bucket"], ObjectLockEnabledForBucket=True)
    return proc


def client(plan: dict[str, Any]) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{PORT}",
        aws_access_key_id=plan["access_key_id"],
        aws_secret_access_key=plan["secret_access_key"],
        region_name=plan["region"],
    )


def locked_objects(plan: dict[str, Any]) -> dict[str, Any]:
    """How many objects the exports put in the bucket, and the Object Lock mode of each."""
    s3 = client(plan)
    found = s3.list_objects_v2(Bucket=plan["bucket"], Prefix=plan["prefix"]).get("Contents", [])
    modes = {
        str(s3.head_object(Bucket=plan["bucket"], Key=o["Key"]).get("ObjectLockMode"))
        for o in found
    }
    return {"objects": len(found), "modes": sorted(modes)}
