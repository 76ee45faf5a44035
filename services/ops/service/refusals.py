"""Every refusal is audited. The use case's own transaction rolls back when it refuses, so the
"denied" event is written in a transaction of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from runtime.auth import Principal
from runtime.clipping import clip
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
    """Records a "denied" `verb` event when the block raises PermissionDenied or Conflict. Text
    the caller chose (a comment, an executor name, the reason quoting them) is clipped first:
    a refusal is not a way to write a megabyte into the permanent log."""
    try:
        yield
    except (PermissionDenied, Conflict) as refusal:
        details = {**_clipped(payload or {}), "reason": clip(str(refusal))}
        async with db.transaction() as session:
            await outbox.record(
                session, actor_of(principal).audit, verb, action_id, details, "denied", target
            )
        raise


def _clipped(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: clip(v) if isinstance(v, str) else v for k, v in payload.items()}
