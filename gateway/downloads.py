"""An export's file as an HTTP download, streamed from the export service (ReadExportFile): the
REST route GET /exports/{export_id}/files/{name} and the console's download link both answer
with `file_response`.

Nothing is sent before the service's first message has arrived: its refusals (no such export
or file, not finished, not allowed, a stored file that no longer matches its manifest) are the
usual JSON errors, and the headers come from that message: Content-Length, the SHA-256 from the
manifest as an RFC 9530 Repr-Digest, `Content-Disposition: attachment` and a type by the file's
kind. Once the first byte is out, the status is sent and cannot change: a failure after it (the
service found the file changed while reading it, or went away) cuts the connection, so the
client holds fewer bytes than Content-Length promised, which HTTP clients report as an
incomplete download rather than a file. The bytes pass through one message (64 KiB) at a time."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Any

import grpc
from fastapi.responses import StreamingResponse

from gateway.errors import ApiError
from gateway.peers import Peers
from tradeops.export.v1 import export_service_pb2 as pb

log = logging.getLogger(__name__)
Metadata = tuple[tuple[str, str], ...]
Call = grpc.aio.UnaryStreamCall[pb.ReadExportFileRequest, pb.FileChunk]
# By the file's kind: data (JSON Lines, CSV), the manifest and proofs, the checkpoint's signed
# note, the detached signature (raw bytes).
MEDIA_TYPES = {
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".sig": "application/octet-stream",
}
OTHER = "application/octet-stream"


def repr_digest(sha256_hex: str) -> str:
    """RFC 9530: the algorithm and the digest's bytes as a structured-field byte sequence."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode()}:"


_TEXT = {"type": "string"}
# The 200 answer in the OpenAPI document: each kind of file with an example, and the headers.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, as an attachment",
        "headers": {
            "Content-Disposition": {"schema": _TEXT, "example": 'attachment; filename="x.jsonl"'},
            "Content-Length": {"schema": {"type": "integer", "minimum": 0}},
            "Repr-Digest": {
                "description": "The SHA-256 the manifest lists for the file (RFC 9530)",
                "schema": _TEXT,
                "example": repr_digest("00" * 32),
            },
        },
        "content": {
            **{
                media.split(";")[0]: {
                    "schema": {"type": "string", "format": "binary"},
                    "example": text,
                }
                for media, text in [
                    (MEDIA_TYPES[".jsonl"], '{"seq":0,"event":{"action":"ops.action.approved"}}\n'),
                    (MEDIA_TYPES[".csv"], "seq,event.action\r\n0,ops.action.approved\r\n"),
                    (MEDIA_TYPES[".txt"], "tradeops.example/audit\n42\n...\n"),
                    (OTHER, "(64 bytes: the raw Ed25519 signature of manifest.json)"),
                ]
            },
            # A JSON file (manifest.json, proofs.json) is a JSON object to any client that reads
            # the type: declared as one, not as a string.
            MEDIA_TYPES[".json"].split(";")[0]: {
                "schema": {"type": "object", "description": "The file's JSON, as kept and signed"},
                "example": {"export_id": "...", "files": []},
            },
        },
    }
}


async def file_response(
    peers: Peers, metadata: Metadata, export_id: str, name: str, timeout_s: float
) -> StreamingResponse:
    """The file `name` of export `export_id`, asked for with the caller's `metadata`; `timeout_s`
    bounds the whole transfer (the long deadline: it grows with the file)."""
    request = pb.ReadExportFileRequest(id=export_id, name=name)
    call: Call = peers.export.ReadExportFile(request, timeout=timeout_s, metadata=metadata)
    try:
        first = await call.read()  # a refusal raises here, before any header is sent
    except BaseException:
        call.cancel()
        raise
    if not isinstance(first, pb.FileChunk):
        raise ApiError(502, "INTERNAL", "a backing service failed")
    return StreamingResponse(
        _bytes(call, first, export_id, name),
        media_type=media_type(name),
        headers=_headers(name, first),
    )


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(PurePosixPath(name).suffix, OTHER)


def _headers(name: str, first: pb.FileChunk) -> dict[str, str]:
    # `name` is one the service found among the export's files (it answered): plain ASCII.
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(first.size_bytes),
        "Repr-Digest": repr_digest(first.sha256),
        "X-Content-Type-Options": "nosniff",
    }


async def _bytes(
    call: Call, first: pb.FileChunk, export_id: str, name: str
) -> AsyncIterator[bytes]:
    try:
        yield first.data
        while isinstance(chunk := await call.read(), pb.FileChunk):
            yield chunk.data
    except grpc.aio.AioRpcError as exc:
        # The status line and headers are gone: raising is what cuts the connection.
        log.warning("export %s: %s cut short: %s %s", export_id, name, exc.code(), exc.details())
        raise
    finally:
        call.cancel()  # the client went away, or the read failed: stop the service's stream
