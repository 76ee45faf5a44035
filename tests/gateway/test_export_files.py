"""GET /exports/{export_id}/files/{name}: an export's file streamed from the export service's
ReadExportFile (a streaming fake here), with the headers a download needs; a refusal before the
first byte is the usual JSON error, a failure after it cuts the connection (shown on a real
HTTP server, uvicorn, since only a connection can be cut)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.export.v1 import export_service_pb2 as pb

EXPORT_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a003"
URL = f"/exports/{EXPORT_ID}/files/records.jsonl"
DATA = [b'{"seq":0}\n' * 3, b'{"seq":1}\n' * 2, b'{"seq":2}\n']
WHOLE = b"".join(DATA)
SHA256 = hashlib.sha256(WHOLE).hexdigest()


def stream(data: list[bytes] = DATA) -> list[pb.FileChunk]:
    whole = b"".join(data)
    chunks, offset = [], 0
    for piece in data:
        chunks.append(pb.FileChunk(data=piece, offset=offset))
        offset += len(piece)
    chunks[0].size_bytes, chunks[0].sha256 = len(whole), hashlib.sha256(whole).hexdigest()
    return chunks


async def test_compliance_downloads_a_file_with_its_length_digest_and_name(
    gateway: Gateway,
) -> None:
    gateway.recorder.streams["ReadExportFile"] = stream()
    headers = gateway.auth("compliance", subject="carol")

    response = await gateway.client.get(URL, headers=headers)

    assert response.status_code == 200
    assert response.content == WHOLE
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-length"] == str(len(WHOLE))
    assert response.headers["content-disposition"] == 'attachment; filename="records.jsonl"'
    digest = base64.b64encode(hashlib.sha256(WHOLE).digest()).decode()
    assert response.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert response.headers["x-content-type-options"] == "nosniff"
    request = assert_forwarded(gateway, "ReadExportFile", headers)
    assert request == pb.ReadExportFileRequest(id=EXPORT_ID, name="records.jsonl")


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("records.csv", "text/csv; charset=utf-8"),
        ("manifest.json", "application/json"),
        ("proofs.json", "application/json"),
        ("checkpoint.txt", "text/plain; charset=utf-8"),
        ("manifest.json.sig", "application/octet-stream"),
        ("audit_records.jsonl", "application/x-ndjson"),
    ],
)
async def test_each_kind_of_file_comes_with_its_type(
    gateway: Gateway, name: str, media_type: str
) -> None:
    gateway.recorder.streams["ReadExportFile"] = stream()

    response = await gateway.client.get(
        f"/exports/{EXPORT_ID}/files/{name}", headers=gateway.auth("admin")
    )

    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'


async def test_an_empty_file_is_an_empty_download(gateway: Gateway) -> None:
    empty = hashlib.sha256(b"").hexdigest()
    gateway.recorder.streams["ReadExportFile"] = [pb.FileChunk(size_bytes=0, sha256=empty)]

    response = await gateway.client.get(URL, headers=gateway.auth("admin"))

    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.DATA_LOSS, 502),
        (grpc.StatusCode.UNAVAILABLE, 503),
    ],
)
async def test_a_refusal_before_the_first_byte_is_the_usual_json_error(
    gateway: Gateway, code: grpc.StatusCode, status: int
) -> None:
    gateway.recorder.failures["ReadExportFile"] = (code, "records.jsonl: the reason")

    response = await gateway.client.get(URL, headers=gateway.auth("compliance"))

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code.name
    assert "content-disposition" not in response.headers
    if status < 500:
        assert response.json()["error"]["message"] == "records.jsonl: the reason"


@pytest.mark.parametrize("role", ["viewer", "trader", "ops"])
async def test_reading_an_exports_contents_needs_compliance_or_admin(
    gateway: Gateway, role: str
) -> None:
    response = await gateway.client.get(URL, headers=gateway.auth(role))

    assert response.status_code == 403
    assert gateway.recorder.calls == []


@pytest.mark.parametrize("name", [".hidden", "a b.txt", "-x", "x" * 129])
async def test_a_name_no_export_file_could_have_is_refused_before_the_service(
    gateway: Gateway, name: str
) -> None:
    response = await gateway.client.get(
        f"/exports/{EXPORT_ID}/files/{name}", headers=gateway.auth("admin")
    )

    assert response.status_code == 422
    assert gateway.recorder.calls == []


@asynccontextmanager
async def over_http(app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real uvicorn on a free loopback port (its lifespan already entered)."""
    listening = socket.create_server(("127.0.0.1", 0))  # connects queue until uvicorn accepts
    config = uvicorn.Config(app, lifespan="off", log_level="critical")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


async def drain(response: httpx.Response, into: bytearray) -> None:
    async for piece in response.aiter_raw():
        into += piece


async def test_a_failure_after_the_first_byte_cuts_the_connection_short_of_its_length(
    gateway: Gateway,
) -> None:
    gateway.recorder.streams["ReadExportFile"] = stream()
    gateway.recorder.failures["ReadExportFile"] = (grpc.StatusCode.DATA_LOSS, "changed")
    gateway.recorder.fail_after["ReadExportFile"] = 2
    received = bytearray()

    async with (
        over_http(gateway.app) as base,
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", URL, headers=gateway.auth("admin")) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(WHOLE))
        with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message"):
            await drain(response, received)

    assert bytes(received) == DATA[0] + DATA[1]  # what came before the failure, nothing more


async def test_a_whole_file_arrives_whole_over_http(gateway: Gateway) -> None:
    gateway.recorder.streams["ReadExportFile"] = stream([b"x" * 65536] * 5 + [b"end\n"])

    async with over_http(gateway.app) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get(URL, headers=gateway.auth("admin"))

    assert response.content == b"x" * 65536 * 5 + b"end\n"
    assert response.headers["content-length"] == str(65536 * 5 + 4)
