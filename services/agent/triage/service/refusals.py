"""Every refusal is audited. The use case's own transaction rolls back when it refuses, so the
"denied" event is written in a transaction of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from runtime.outbox import person
from services.agent.triage.repository import outbox


@asynccontextmanager
async def audited(
    db: Database, caller: Principal, action: str, target: str, payload: dict[str, Any]
) -> AsyncIterator[None]:
    """Records a "denied" `action` event when the block raises a refusal."""
    try:
        yield
    except (InvalidArgument, Conflict, PermissionDenied) as refusal:
        async with db.transaction() as session:
            payload = {**payload, "reason": str(refusal)}
            await outbox.record(session, person(caller), action, target, payload, outcome="denied")
        raise
