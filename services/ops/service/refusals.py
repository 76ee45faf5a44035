"""Every refusal is audited. The use case's own transaction rolls back when it refuses, so the
"denied" event is written in a transaction of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, PermissionDenied
from services.ops.domain.transition import actor_of
from services.ops.repository import outbox


@asynccontextmanager
async def audited(
    db: Database,
    principal: Principal | None,
    verb: str,
    action_id: str,
    payload: dict[str, Any] | None = None,
    target: str = "",
) -> AsyncIterator[None]:
    """Records a "denied" `verb` event when the block raises PermissionDenied or Conflict."""
    try:
        yield
    except (PermissionDenied, Conflict) as refusal:
        details = {**(payload or {}), "reason": str(refusal)}
        async with db.transaction() as session:
            await outbox.record(
                session, actor_of(principal).audit, verb, action_id, details, "denied", target
            )
        raise
