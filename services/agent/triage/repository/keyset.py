"""The agent's keyset-paged lists (runtime.paging tokens): newest first with ties by id, a
query filtered to what follows a token, and a page cut from one row more than it holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, and_, or_

from runtime import paging
from runtime.paging import After


class Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Identified)


def newest_first(query: Select[Any], at: Any, id_: Any, after: After | None) -> Select[Any]:
    """Ordered by `at` descending then `id_`, starting after the token's (time, id)."""
    query = query.order_by(at.desc(), id_)
    if after is None:
        return query
    last_at, last_id = after
    return query.where(or_(at < last_at, and_(at == last_at, id_ > last_id)))


def cut(
    found: Sequence[T], page_size: int, time_of: Callable[[T], datetime]
) -> tuple[list[T], str]:
    """`found` holds up to page_size + 1 rows: the page, and the next token ("" on the last)."""
    more = len(found) > page_size
    items = list(found[:page_size])
    return items, paging.encode(time_of(items[-1]), items[-1].id) if more else ""
