"""The S3-compatible server the export pods use in the start test: moto in server mode inside the
pods' network, the bucket of the ConfigMap made with Object Lock as the README asks, with the
credentials of the Secret tradeops-s3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from tests.export.s3 import MotoS3

ENDPOINT_HOST = "minio.storage.svc.cluster.local"  # an S3-compatible store in the cluster
PORT = 9000


def start(plan: dict[str, Any], log: Path) -> MotoS3:
    server = MotoS3(log, PORT)
    server.start()
    try:
        client(plan).create_bucket(Bucket=plan["bucket"], ObjectLockEnabledForBucket=True)
    except BaseException:
        server.stop()
        raise
    return server


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
