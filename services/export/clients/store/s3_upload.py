"""Uploading one file to S3 so that the call itself names the version it made: one PutObject up
to PART bytes, a multipart upload above (parts of PART bytes read from disk one at a time, each
with its CRC32). boto3's upload_file returns nothing, and asking for the version afterwards
(HeadObject) would name whatever is newest by then, another writer's version included."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

PART = 8 * 1024 * 1024


def upload(client: Any, bucket: str, key: str, path: Path, extra: dict[str, Any]) -> str:
    """Uploads `path` as `key` with `extra` (the lock); returns the new object's VersionId."""
    where = {"Bucket": bucket, "Key": key}
    with path.open("rb") as body:
        if path.stat().st_size <= PART:
            return _version(client.put_object(**where, Body=body, **extra), key)
        started = client.create_multipart_upload(**where, ChecksumAlgorithm="CRC32", **extra)
        upload_id = started["UploadId"]
        try:
            parts = _parts(client, where, upload_id, body)
            done = client.complete_multipart_upload(
                **where, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # Parts left behind would be billed until a lifecycle rule removes them; a failed
            # abort must not hide why the upload failed.
            with suppress(ClientError, BotoCoreError):
                client.abort_multipart_upload(**where, UploadId=upload_id)
            raise
    return _version(done, key)


def _parts(client: Any, where: dict[str, str], upload_id: str, body: BinaryIO) -> list[Any]:
    parts: list[dict[str, Any]] = []
    while chunk := body.read(PART):
        number = len(parts) + 1
        sent = client.upload_part(
            **where, UploadId=upload_id, PartNumber=number, Body=chunk, ChecksumAlgorithm="CRC32"
        )
        parts.append(
            {"PartNumber": number, "ETag": sent["ETag"], "ChecksumCRC32": sent["ChecksumCRC32"]}
        )
    return parts


def _version(response: dict[str, Any], key: str) -> str:
    version = response.get("VersionId")
    if not version:
        # Object Lock needs versioning: a server that names no version ignored the lock too.
        raise OSError(f"{key}: the server returned no version id (is the bucket versioned?)")
    return str(version)
