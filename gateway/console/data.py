"""The API's audit reads for console pages, signed in by the session cookie instead of a bearer
token: what static/verify-page.js fetches to check a record in the browser. Read-only, so a
cross-site request can learn nothing (the browser keeps the answer from another origin) and
change nothing; each answers exactly what its API route answers, under that route's roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from gateway.bodies.audit import RecordQuery
from gateway.bodies.proofs import InclusionQuery
from gateway.console.guard import SignedIn
from gateway.deps import Json, Rpc
from gateway.errors import ApiError
from gateway.routes import audit, proofs

PREFIX = "/console/data"
router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def reader(request: Request, person: SignedIn) -> Rpc:
    """The person's calls, when the API route of the same path lets their roles read it."""
    api_path = request.scope["route"].path_format.removeprefix(PREFIX)
    if not person.may("GET", api_path):
        raise ApiError(403, "PERMISSION_DENIED", f"your roles cannot read {api_path}")
    return person.rpc(request)


Reader = Annotated[Rpc, Depends(reader)]


@router.get("/audit/records")
async def records(rpc: Reader, query: Annotated[RecordQuery, Query()]) -> Json:
    return await audit.list_records(rpc, query)


@router.get("/audit/proofs/inclusion")
async def inclusion_proof(rpc: Reader, query: Annotated[InclusionQuery, Query()]) -> Json:
    return await proofs.inclusion_proof(rpc, query)


@router.get("/audit/checkpoints/latest")
async def latest_checkpoint(rpc: Reader) -> Json:
    return await proofs.latest_checkpoint(rpc)


@router.get("/audit/keys")
async def public_keys(rpc: Reader) -> Json:
    return await proofs.public_keys(rpc)
