"""Reading the values of a rule set document, each refusal naming the field and where it is:
the document is an admin's JSON (gateway PUT /agent/rulesets), so a missing key or a value of
the wrong type is their mistake to fix, never a KeyError or TypeError to decode."""

from __future__ import annotations

from typing import Any


class RuleSetError(ValueError):
    """The document is malformed; the message names the first problem."""


def an_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleSetError(f"{what} must be a JSON object, not {_kind_of(value)}")
    return value


def a_list(item: dict[str, Any], key: str, what: str) -> list[Any]:
    value = item.get(key)
    if value is None:
        raise RuleSetError(f"{what}: {key!r} is missing (a list)")
    if not isinstance(value, list):
        raise RuleSetError(f"{what}: {key!r} must be a list, not {_kind_of(value)}")
    return value


def a_number(item: dict[str, Any], key: str, what: str, default: float | None = None) -> float:
    """A number; as before, also a number spelled as a string ("0.5"), which stored versions
    may hold."""
    value = item.get(key, default)
    if value is None:
        raise RuleSetError(f"{what}: {key!r} is missing (a number)")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RuleSetError(f"{what}: {key!r} must be a number, not {value!r}") from None


def text(item: dict[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise RuleSetError(f"{what}: {key!r} must be a non-empty string")
    return value


def choice(item: dict[str, Any], key: str, allowed: tuple[str, ...], what: str) -> str:
    value = text(item, key, what)
    if value not in allowed:
        raise RuleSetError(f"{what}: {key} {value!r} is not one of {', '.join(allowed)}")
    return value


def _kind_of(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")
