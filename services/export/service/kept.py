"""Reading a sealed export back from its store, for delivery and verification: the object
versions recorded with its manifest (sealing.py), then a copy of exactly those, so a newer
version or a delete marker in the bucket changes nothing the service reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from runtime.db import Database
from services.export.clients.store import ExportStore
from services.export.repository.object_versions import versions_of


@asynccontextmanager
async def kept_copy(db: Database, store: ExportStore, export_id: str) -> AsyncIterator[Path]:
    async with db.transaction() as session:
        versions = await versions_of(session, export_id)
    async with store.copy(export_id, versions) as folder:
        yield folder
