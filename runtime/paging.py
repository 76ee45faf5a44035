"""Opaque page tokens for the keyset-paged lists ordered by (time, id) (ops' ListActions,
export's ListExports, the agent's ListIncidents, ListDecisions and ListResults), or by (time,
rank, id) (ops' ListActions by deadline): the place of a page's last item. A token is only as
trustworthy as any cursor: it names a place in the order, never grants access."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, Literal, Protocol

from runtime.errors import InvalidArgument

DEFAULT_PAGE, MAX_PAGE = 50, 500
After = tuple[datetime, str]
Ranked = tuple[datetime, int, str]


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
    return _token([at.isoformat(), item_id])


def decode(token: str) -> After | None:
    if not token:
        return None
    try:
        text, item_id = _values(token)
        return _aware(text), str(uuid.UUID(item_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument("page_token is not one this server issued") from exc


def encode_ranked(at: datetime, rank: int, item_id: str) -> str:
    """A token for a list ordered by (time, rank, id), ops' actions by deadline then risk: it
    holds three values, so decode() refuses it, and decode_ranked() a two-value token."""
    return _token([at.isoformat(), rank, item_id])


def decode_ranked(token: str) -> Ranked | None:
    if not token:
        return None
    try:
        text, rank, item_id = _values(token)
        if type(rank) is not int:
            raise TypeError("rank")
        return _aware(text), rank, str(uuid.UUID(item_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument("page_token is not one this server issued") from exc


def _token(values: list[object]) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _values(token: str) -> list[Any]:
    loaded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    if not isinstance(loaded, list):
        raise TypeError("not a list")
    return loaded


def _aware(text: object) -> datetime:
    at = datetime.fromisoformat(str(text))
    if at.tzinfo is None:  # every token this server issues carries its zone
        raise ValueError("naive time")
    return at
