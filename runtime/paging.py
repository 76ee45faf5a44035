"""Opaque page tokens for the keyset-paged lists ordered by (time, id) (ops' ListActions,
export's ListExports, the agent's ListIncidents, ListDecisions and ListResults): the time and
id of a page's last item. A token is only as trustworthy as any cursor: it names a place in
the order, never grants access."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Literal, Protocol

from runtime.errors import InvalidArgument

DEFAULT_PAGE, MAX_PAGE = 50, 500
After = tuple[datetime, str]


class _PageRequest(Protocol):
    @property
    def page_size(self) -> int: ...


class LimitedRequest(Protocol):
    """A list request that still honours its deprecated `limit` beside `page`."""

    @property
    def limit(self) -> int: ...
    @property
    def page(self) -> _PageRequest: ...
    def HasField(self, field_name: Literal["page"]) -> bool: ...  # protobuf's name


def page_size(requested: int, field: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument(f"{field} must not be negative")
    return min(requested or DEFAULT_PAGE, MAX_PAGE)


def requested_size(request: LimitedRequest) -> int:
    """page.page_size when `page` is set, else the deprecated `limit`, checked as page_size."""
    if request.HasField("page"):
        return page_size(request.page.page_size)
    return page_size(request.limit, "limit")


def encode(at: datetime, item_id: str) -> str:
    raw = json.dumps([at.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> After | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        text, item_id = json.loads(raw)
        at = datetime.fromisoformat(text)
        if at.tzinfo is None:  # every token this server issues carries its zone
            raise ValueError("naive time")
        return at, str(uuid.UUID(item_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument("page_token is not one this server issued") from exc
