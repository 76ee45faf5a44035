"""What every request model shares: strict parsing (unknown fields, wrong JSON types and
oversized or unstorable strings are refused with 422 before any service is called; a whole
number written 59.0 is an integer, as JSON Schema says), the value types of bodies and query
strings, each model's example body, and JSON parameters a protobuf Struct can carry exactly."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from runtime.proto_time import timestamp

MAX_INT64 = 2**63 - 1  # seq numbers and tree sizes are int64 in the contracts


# RFC 3339 section 5.6 date-time, offset required. Lax datetime parsing alone would also take a
# bare number as a Unix time, a date without a time or a time without seconds.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "expected an RFC 3339 date-time with a time zone, e.g. 2026-01-31T09:30:00Z"
            " (in a URL, write + as %2B)"
        )
    return value


def _in_utc(moment: datetime) -> datetime:
    # A protobuf Timestamp is UTC; 0001-01-01T00:00:00+01:00 has no UTC counterpart.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time is out of range once converted to UTC") from None


# JSON carries ids and times as text; strict mode alone would demand Python objects.
Id = Annotated[UUID, Field(strict=False)]


Rfc3339 = Annotated[
    AwareDatetime, Field(strict=False), BeforeValidator(_rfc3339_text), AfterValidator(_in_utc)
]


Seq = Annotated[int, Field(ge=0, le=MAX_INT64)]


Metric = Annotated[float, Field(allow_inf_nan=False)]


Name = Annotated[str, Field(min_length=1, max_length=128)]


KIND_MARK = "x-incident-kind"  # gateway.contract.kinds lists the kinds in force here


IncidentKind = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        examples=["market_data_latency"],
        description="A kind the active rule set declares (GET /agent/rulesets/0); the agent also"
        " takes one in capitals, or with - or a space for _",
        json_schema_extra={KIND_MARK: True},
    ),
]


class StorableText(BaseModel):
    """Refuses text a service could not store: JSON may escape a lone surrogate ("\\ud800"),
    which protobuf cannot encode, and NUL, which a Postgres text or jsonb value cannot hold."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check_text(data)
        return data


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000)")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictModel(StorableText):
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        """JSON Schema's integer is any number without a fraction, so 59.0 is one: an integer
        field takes it as 59 (strict parsing alone would refuse it)."""
        if not isinstance(data, dict):
            return data
        return {
            key: _whole(value) if _takes_int(cls, key) else value for key, value in data.items()
        }


def _takes_int(model: type[BaseModel], name: Any) -> bool:
    field = model.model_fields.get(name) if isinstance(name, str) else None
    if field is None:
        return False
    kinds = get_args(field.annotation) if get_origin(field.annotation) in (Union, UnionType) else ()
    return int in {get_args(kind)[0] if get_args(kind) else kind for kind in kinds} or (
        field.annotation is int
    )


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT64:
        return int(value)
    return value


def example(body: dict[str, Any], **rules: Any) -> ConfigDict:
    """A model's example request body, in the document as its schema's `examples` (the tests
    send each to its routes, so it is one they accept), and any JSON Schema `rules` that state
    what its validators check across fields."""
    return ConfigDict(json_schema_extra={"examples": [body], **rules})


def check_window(since: datetime | None, until: datetime | None) -> None:
    """A time window [since, until): either end may be open, never empty or reversed."""
    if since and until and until <= since:
        raise ValueError("until must be later than since")


def copy_window(message: Any, since: datetime | None, until: datetime | None) -> None:
    """Sets the message's `since` and `until` Timestamps to the window's ends that are given."""
    for field, moment in (("since", since), ("until", until)):
        if moment is not None:
            getattr(message, field).CopyFrom(timestamp(moment))


class QueryModel(StorableText):
    # Not strict: a query string carries every value as text.
    model_config = ConfigDict(extra="forbid")


PageSize = Annotated[int, Field(ge=1, le=500)]


MAX_PARAMETERS = 64


MAX_DEPTH = 8  # a protobuf Struct nests a level per object or list; parsers cap recursion


EXACT = 2**53  # a Struct holds numbers as doubles: larger integers would change silently


def _plain_json(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"parameters nest deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("parameters must be finite numbers")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT:
        raise ValueError(f"integers in parameters must lie within ±2**53; send {value} as text")
    if isinstance(value, dict):
        value = list(value.values())
    for child in value if isinstance(value, list) else ():
        _plain_json(child, depth + 1)


def checked_json(parameters: dict[str, Any]) -> dict[str, Any]:
    _plain_json(parameters)
    return parameters


# Empty, or a name without surrounding blanks.
Who = Annotated[str, Field(max_length=256, pattern=r"^(\S(.*\S)?)?$")]


Parameters = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=128)], Any],
    Field(max_length=MAX_PARAMETERS, examples=[{"feed": "XNAS-ITCH", "to": "secondary"}]),
    AfterValidator(checked_json),
]
