"""Schemathesis hooks for tests/e2e/test_fuzz_openapi.py, loaded by schemathesis from this file.

They keep generated requests within rules that a JSON Schema cannot state, so that
positive_data_acceptance judges what the document can say; each is listed in that test's
docstring. Only requests generated to be valid are changed, and only so that they stay valid:
- `until` later than `since` (a query's or a body's): a rule across two fields;
- `limit` left out when `page_size` is given: the deprecated alias and its successor, not both;
- no invented `page_token`: only one the server issued is valid, and none can be generated;
- a fresh `Idempotency-Key` for each request: the same key with another body is refused (422),
  as documented, and generated keys repeat;
- no NUL inside free JSON (an action's parameters, ...): the document states it only for the
  free value's own text (gateway.contract.rules, PlainJson), since a schema saying it at every
  depth refers to itself, which client generators cannot read."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.hooks import HookContext

IDEMPOTENCY_KEY = "Idempotency-Key"
KEY = re.compile(r"[!-~]{1,200}")


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Every request of every phase passes here (the map_* hooks miss the coverage phase).
    Only requests meant to be valid are touched: schemathesis revalidates a case a hook changed
    by its declared parameters alone, so an edited negative case whose broken part is the
    token would be judged valid, and its 401 a refusal of valid data."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    key = case.headers.get(IDEMPOTENCY_KEY) if case.headers else None
    if isinstance(key, str) and KEY.fullmatch(key):
        case.headers[IDEMPOTENCY_KEY] = uuid.uuid4().hex
    query = case.query
    if isinstance(query, dict):
        query.pop("page_token", None)
        if "page_size" in query:
            query.pop("limit", None)
        _since_before_until(query)
    if isinstance(case.body, dict):
        _since_before_until(case.body)
        case.body = _without_nul(case.body)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _since_before_until(values: dict[str, Any]) -> None:
    since, until = _instant(values.get("since")), _instant(values.get("until"))
    if since is None or until is None or until > since:
        return
    one = timedelta(seconds=1)
    try:
        values["until"] = _text(since + one)
    except OverflowError:  # since is the last second there is
        values["since"] = _text(until - one)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
