"""Audit extracts written as files: the export service."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.deps import Json, RpcDep, as_json
from gateway.schemas import NewExport
from tradeops.export.v1 import export_service_pb2 as pb

router = APIRouter(prefix="/exports", tags=["exports"])


@router.post("", status_code=201)
async def create_export(body: NewExport, rpc: RpcDep) -> Json:
    export = await rpc.peers.export.CreateExport(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(export)


@router.get("")
async def list_exports(rpc: RpcDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Json:
    reply = await rpc.peers.export.ListExports(
        pb.ListExportsRequest(limit=limit), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.get("/{export_id}")
async def get_export(export_id: UUID, rpc: RpcDep) -> Json:
    export = await rpc.peers.export.GetExport(
        pb.GetExportRequest(id=str(export_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(export)
