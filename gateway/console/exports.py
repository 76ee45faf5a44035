"""Evidence packs: everything about one action, signed, made by the export service. The page
lists exports, makes one for an action, shows its progress (the page refreshes itself while it
is being made) and verifies it again on request."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from google.protobuf.struct_pb2 import Struct

from gateway.console.guard import Person, SignedIn, check_form
from gateway.console.render import render
from gateway.deps import as_json
from gateway.downloads import file_response
from gateway.errors import ApiError
from gateway.routes.exports import FileName
from tradeops.export.v1 import export_service_pb2 as pb

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/exports")
async def exports(request: Request, person: SignedIn) -> HTMLResponse:
    rpc = person.rpc(request)
    query = pb.ListExportsRequest()
    reply = await rpc.peers.export.ListExports(query, timeout=rpc.timeout, metadata=rpc.metadata)
    return render(
        request,
        "exports.html",
        person=person,
        nav="exports",
        exports=as_json(reply)["exports"],
        may_create=person.may("POST", "/exports"),
    )


@router.post("/exports")
async def create_export(
    request: Request,
    person: SignedIn,
    csrf: Annotated[str, Form()] = "",
    action_id: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    check_form(request, person.session, csrf)
    if not person.may("POST", "/exports"):
        raise ApiError(403, "PERMISSION_DENIED", "making exports needs compliance or admin")
    try:
        action = str(UUID(action_id.strip()))
    except ValueError:
        raise ApiError(422, "INVALID_ARGUMENT", f"not an action id: {action_id!r}") from None
    parameters = Struct()
    parameters.update({"action_id": action})
    rpc = person.rpc(request)
    export = await rpc.peers.export.CreateExport(
        pb.CreateExportRequest(kind="evidence_pack", parameters=parameters),
        timeout=rpc.long_timeout,
        metadata=rpc.metadata,
    )
    return RedirectResponse(f"/console/exports/{export.id}", status_code=303)


@router.get("/exports/{export_id}")
async def export_page(request: Request, export_id: UUID, person: SignedIn) -> HTMLResponse:
    return await _shown(request, person, str(export_id), None)


async def _shown(
    request: Request, person: Person, ident: str, verification: pb.Verification | None
) -> HTMLResponse:
    """The export page: the export as it is now, and a verification just made, if any."""
    rpc = person.rpc(request)
    export = await rpc.peers.export.GetExport(
        pb.GetExportRequest(id=ident), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return render(
        request,
        "export.html",
        person=person,
        nav="exports",
        export=as_json(export),
        verification=as_json(verification) if verification else None,
        may_verify=person.may("POST", "/exports/{export_id}/verify"),
        may_download=person.may("GET", "/exports/{export_id}/files/{name}"),
    )


@router.get("/exports/{export_id}/files/{name}")
async def download(
    request: Request, export_id: UUID, name: FileName, person: SignedIn
) -> StreamingResponse:
    """The API's download (gateway.downloads), under the same roles, as an attachment."""
    if not person.may("GET", "/exports/{export_id}/files/{name}"):
        raise ApiError(403, "PERMISSION_DENIED", "downloading exports needs compliance or admin")
    rpc = person.rpc(request)
    return await file_response(rpc.peers, rpc.metadata, str(export_id), name, rpc.long_timeout)


@router.post("/exports/{export_id}/verify")
async def verify_export(
    request: Request, export_id: UUID, person: SignedIn, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_form(request, person.session, csrf)
    if not person.may("POST", "/exports/{export_id}/verify"):
        raise ApiError(403, "PERMISSION_DENIED", "verifying exports needs compliance or admin")
    rpc = person.rpc(request)
    verification = await rpc.peers.export.VerifyExport(
        pb.VerifyExportRequest(id=str(export_id)), timeout=rpc.long_timeout, metadata=rpc.metadata
    )
    return await _shown(request, person, str(export_id), verification)
