"""Reading exports: one export, pages of exports, an export's delivery attempts; and the
public keys, which come from the pinned key files (DeliveryConfig.keys), not the database."""

from __future__ import annotations

from dataclasses import dataclass

from runtime import paging
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.export.domain import requests
from services.export.domain.delivery import DeliveryAttempt
from services.export.domain.exports import Export, ExportState
from services.export.domain.signing import PinnedKeys, PublicKey
from services.export.repository import exports as repository
from services.export.repository.delivery_attempts import attempts


@dataclass(frozen=True)
class Page:
    exports: list[Export]
    next_token: str


async def get_export(db: Database, export_id: str) -> Export:
    async with db.transaction() as session:
        export = await repository.get(session, requests.parse_id(export_id))
    if export is None:
        raise NotFound(f"no export {export_id}")
    return export


async def list_exports(
    db: Database,
    *,
    page_size: int,
    page_token: str = "",
    state: str = "",
    kind: str = "",
    client_key: str = "",
    caller: str = "",
) -> Page:
    """Newest first; `state` is an ExportState value, `kind` a kind, either empty for any. With
    a `client_key`, only `caller`'s own export created with it (keys are unique per caller)."""
    if state and state not in {s.value for s in ExportState}:
        raise InvalidArgument(f"unknown export state {state!r}")
    if len(client_key) > requests.MAX_CLIENT_KEY:
        raise InvalidArgument(f"client_key must be at most {requests.MAX_CLIENT_KEY} characters")
    limit = requests.page_limit(page_size)
    keyed = (caller, client_key) if client_key else None
    async with db.transaction() as session:
        found = await repository.page(
            session,
            limit=limit + 1,
            after=paging.decode(page_token),
            state=state,
            kind=kind,
            keyed=keyed,
        )
    more = len(found) > limit
    found = found[:limit]
    return Page(found, paging.encode(found[-1].created_at, found[-1].id) if more else "")


async def list_attempts(db: Database, export_id: str) -> list[DeliveryAttempt]:
    """Every delivery attempt of the export, oldest first; NotFound for an unknown export."""
    async with db.transaction() as session:
        export = await repository.get(session, requests.parse_id(export_id))
        if export is None:
            raise NotFound(f"no export {export_id}")
        return await attempts(session, export.id)


def list_public_keys(keys: PinnedKeys) -> list[PublicKey]:
    """The current key first, then earlier ones newest first."""
    return list(keys.keys)
