"""Reading incidents and their triage decisions back a page at a time (keyset pages, see
runtime.paging): a page holds at most `page_size` items and names the next one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from runtime import paging
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.incidents import Incident
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository import incidents as incident_rows
from services.agent.triage.repository import keyset


class Dated(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


T = TypeVar("T", bound=Dated)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str  # empty on the last page


async def incident_page(
    db: Database,
    *,
    page_size: int,
    page_token: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[Incident]:
    """Newest first, created in [since, until); `page_size` already checked by paging."""
    after = paging.decode(page_token)
    async with db.transaction() as session:
        found = await incident_rows.list_incidents(
            session, page_size + 1, after=after, since=since, until=until
        )
    return _page(found, page_size)


async def decision_page(
    db: Database, *, incident_id: str, page_size: int, page_token: str = ""
) -> Page[Decision]:
    """NotFound for an unknown incident, as GetIncident."""
    if not incident_id:
        raise InvalidArgument("incident_id is required")
    after = paging.decode(page_token)
    async with db.transaction() as session:
        if await incident_rows.get_incident(session, incident_id) is None:
            raise NotFound(f"no incident {incident_id!r}")
        found = await decision_rows.list_decisions(session, incident_id, page_size + 1, after=after)
    return _page(found, page_size)


def _page(found: Sequence[T], page_size: int) -> Page[T]:
    return Page(*keyset.cut(found, page_size, lambda item: item.created_at))
