"""Signed exports of audit data and reports, their verification, redelivery and schedules: the
export service. The static paths (verify, schedules, keys) are declared before /{export_id}."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from gateway.bodies.exports import ExportQuery, NewExport, Redelivery, ScheduleBody, VerifyMany
from gateway.deps import Json, RpcDep, as_json
from gateway.downloads import FILE_RESPONSES, file_response
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.export.v1 import export_service_pb2 as pb

router = APIRouter(prefix="/exports", tags=["exports"], route_class=GuardedRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="The client_key, when the body has none",
    ),
]


@router.post("", status_code=201, response_model=json_of(pb.Export))
async def create_export(
    body: NewExport, rpc: RpcDep, idempotency_key: IdempotencyKey = None
) -> Json:
    """Builds, signs and (with a destination) delivers the export; a repeated client_key
    answers the caller's first export unchanged."""
    export = await rpc.peers.export.CreateExport(
        body.to_message(idempotency_key), timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return as_json(export)


@router.get("", response_model=json_of(pb.ListExportsResponse))
async def list_exports(rpc: RpcDep, query: Annotated[ExportQuery, Query()]) -> Json:
    """Exports, newest first. With `client_key`, only your own export created with that
    client_key or Idempotency-Key (none, or exactly one): this is how to find the result of a
    keyed create that was interrupted (a retry answered 409 "look its result up")."""
    reply = await rpc.peers.export.ListExports(
        query.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("/verify", response_model=json_of(pb.VerifyExportsResponse))
async def verify_exports(body: VerifyMany, rpc: RpcDep) -> Json:
    """Verifies each of `ids`, or every signed export created in [since, until)."""
    reply = await rpc.peers.export.VerifyExports(
        body.to_message(), timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/schedules", response_model=json_of(pb.ListSchedulesResponse))
async def list_schedules(rpc: RpcDep) -> Json:
    reply = await rpc.peers.export.ListSchedules(
        pb.ListSchedulesRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("/schedules", status_code=201, response_model=json_of(pb.Schedule))
async def create_schedule(body: ScheduleBody, rpc: RpcDep) -> Json:
    schedule = await rpc.peers.export.PutSchedule(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(schedule)


@router.put("/schedules/{schedule_id}", response_model=json_of(pb.Schedule))
async def put_schedule(schedule_id: UUID, body: ScheduleBody, rpc: RpcDep) -> Json:
    """Replaces the schedule with that id."""
    schedule = await rpc.peers.export.PutSchedule(
        body.to_message(str(schedule_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(schedule)


@router.delete("/schedules/{schedule_id}", status_code=204)
async def delete_schedule(schedule_id: UUID, rpc: RpcDep) -> Response:
    """Exports the schedule already ran are kept."""
    await rpc.peers.export.DeleteSchedule(
        pb.DeleteScheduleRequest(id=str(schedule_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return Response(status_code=204)


@router.get("/keys", response_model=json_of(pb.ListPublicKeysResponse))
async def list_public_keys(rpc: RpcDep) -> Json:
    """The signing keys' public parts, current and retired, newest first."""
    reply = await rpc.peers.export.ListPublicKeys(
        pb.ListPublicKeysRequest(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/{export_id}", response_model=json_of(pb.Export))
async def get_export(export_id: UUID, rpc: RpcDep) -> Json:
    export = await rpc.peers.export.GetExport(
        pb.GetExportRequest(id=str(export_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(export)


@router.post("/{export_id}/verify", response_model=json_of(pb.Verification))
async def verify_export(export_id: UUID, rpc: RpcDep) -> Json:
    verification = await rpc.peers.export.VerifyExport(
        pb.VerifyExportRequest(id=str(export_id)), timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return as_json(verification)


@router.post("/{export_id}/redeliver", response_model=json_of(pb.Export))
async def redeliver_export(export_id: UUID, rpc: RpcDep, body: Redelivery | None = None) -> Json:
    """Delivers the signed export again, to `destination` or its own."""
    request = (body or Redelivery()).to_message(str(export_id))
    export = await rpc.peers.export.RedeliverExport(
        request, timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return as_json(export)


@router.get("/{export_id}/attempts", response_model=json_of(pb.ListAttemptsResponse))
async def list_attempts(export_id: UUID, rpc: RpcDep) -> Json:
    reply = await rpc.peers.export.ListAttempts(
        pb.ListAttemptsRequest(id=str(export_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


FileName = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="One of the export's `files`, `manifest.json` or `manifest.json.sig`",
        examples=["records.jsonl"],
    ),
]


@router.get("/{export_id}/files/{name}", response_class=StreamingResponse, responses=FILE_RESPONSES)
async def read_export_file(export_id: UUID, name: FileName, rpc: RpcDep) -> StreamingResponse:
    """One file of a finished export, byte for byte as kept and signed, as an attachment, with
    its SHA-256 from the manifest in `Repr-Digest` (RFC 9530). Verify a download as an outside
    auditor would: fetch `manifest.json`, `manifest.json.sig` and the files, take the key from
    GET /exports/keys, then `openssl pkeyutl -verify -rawin -pubin -inkey KEY -in manifest.json
    -sigfile manifest.json.sig` and check each file's SHA-256 against the manifest. A stored
    file that no longer matches its manifest is refused (502) before any byte; if the transfer
    fails after its first byte, the connection is cut short of Content-Length."""
    return await file_response(rpc.peers, rpc.metadata, str(export_id), name, rpc.long_timeout)
