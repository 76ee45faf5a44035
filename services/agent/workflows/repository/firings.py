"""Firing rows: recorded once per (rule, event), claimed for their step with FOR UPDATE SKIP
LOCKED (so any number of replicas run each step once at a time), and paged newest first (by
the causing event's audit seq)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.errors import InvalidArgument
from services.agent.workflows.domain.rules import PENDING, Firing
from services.agent.workflows.tables import trigger_firings as firings
from services.agent.workflows.tables import triggers

After = tuple[int, str]  # (event seq, firing id) of the last firing on the previous page


async def record(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Inserts new firings; one already recorded for its (rule, event) is left as it is."""
    if not rows:
        return 0
    result = await session.execute(
        insert(firings)
        .values(list(rows))
        .on_conflict_do_nothing(constraint="uq_trigger_firings_event")
        .returning(firings.c.id)
    )
    return len(result.all())


def _query() -> Select[Any]:
    return select(firings, triggers.c.name.label("trigger_name")).join(
        triggers, triggers.c.id == firings.c.trigger_id
    )


def _firing(row: Any) -> Firing:
    return Firing(
        id=row.id,
        trigger_id=row.trigger_id,
        trigger_name=row.trigger_name,
        trigger_version=row.trigger_version,
        event_id=row.event_id,
        event_seq=row.event_seq,
        event_action=row.event_action,
        event_target=row.event_target,
        step=row.step,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created=row.created,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        facts=row.facts,
    )


async def claim(session: AsyncSession, now: datetime, lease: timedelta, limit: int) -> list[Firing]:
    """Due pending firings, each attempt counted and its next try moved past the lease first:
    a replica that dies mid-step leaves the firing to be retried when the lease ends."""
    due = (
        select(firings.c.id)
        .where(firings.c.state == PENDING, firings.c.next_attempt_at <= now)
        .order_by(firings.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [row.id for row in await session.execute(due)]
    if not ids:
        return []
    await session.execute(
        update(firings)
        .where(firings.c.id.in_(ids))
        .values(attempts=firings.c.attempts + 1, next_attempt_at=now + lease, updated_at=now)
    )
    rows = await session.execute(_query().where(firings.c.id.in_(ids)))
    return sorted((_firing(r) for r in rows), key=lambda f: f.event_seq)


async def get(session: AsyncSession, firing_id: str, *, lock: bool = False) -> Firing | None:
    query = _query().where(firings.c.id == firing_id)
    if lock:
        query = query.with_for_update(of=firings)
    row = (await session.execute(query)).one_or_none()
    return _firing(row) if row else None


async def settle(
    session: AsyncSession,
    firing_id: str,
    *,
    state: str,
    now: datetime,
    created: str = "",
    error: str = "",
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"state": state, "updated_at": now, "last_error": error[:2000]}
    if created:
        values["created"] = created
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(update(firings).where(firings.c.id == firing_id).values(**values))


async def page(
    session: AsyncSession, *, rule_id: str, after: After | None, limit: int
) -> list[Firing]:
    query = _query().order_by(firings.c.event_seq.desc(), firings.c.id.desc()).limit(limit)
    if rule_id:
        query = query.where(firings.c.trigger_id == rule_id)
    if after is not None:
        query = query.where(
            or_(
                firings.c.event_seq < after[0],
                and_(firings.c.event_seq == after[0], firings.c.id < after[1]),
            )
        )
    return [_firing(row) for row in await session.execute(query)]


def token(firing: Firing) -> str:
    raw = f"{firing.event_seq}|{firing.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_token(value: str) -> After | None:
    if not value:
        return None
    try:
        at, _, firing_id = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
        return int(at), str(uuid.UUID(firing_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("page_token is not one this service issued") from None
