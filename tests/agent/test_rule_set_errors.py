"""A rule set an admin puts is their JSON: a missing field or a value of the wrong type anywhere
in it is refused with a message naming the field and where it is, never an internal exception
name ("KeyError: 'rules'")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from services.agent.triage.domain.ruleset import BASELINE, RuleSetError, parse_rule_set

SHIPPED: dict[str, Any] = json.loads(BASELINE.read_bytes())
WRONG_VALUES: tuple[Any, ...] = (None, [], {}, "", "x", 7, 1.5, True, [1], {"a": 1})
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")

Path = tuple[str | int, ...]


def paths(value: Any, at: Path = ()) -> Iterator[Path]:
    """Every key and index of the document, depth first."""
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            yield (*at, key)
            yield from paths(child, (*at, key))


def changed(path: Path, new: Any, delete: bool = False) -> bytes:
    doc = json.loads(json.dumps(SHIPPED))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return json.dumps(doc).encode()


def problem(raw: bytes) -> str | None:
    """The refusal's message, or None when the document is accepted. Any other exception
    fails the test."""
    try:
        parse_rule_set(raw)
    except RuleSetError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"version": 2, "name": "x"}, "a rule set: 'rules' is missing (a list)"),
        ({**SHIPPED, "rules": {"r": 1}}, "a rule set: 'rules' must be a list, not an object"),
        ({**SHIPPED, "rules": [7]}, "rule #1 must be a JSON object, not a number"),
        ([SHIPPED], "a rule set must be a JSON object, not a list"),
        ({**SHIPPED, "features": []}, "features must be a JSON object, not a list"),
        ({**SHIPPED, "fallback": "P4"}, "fallback must be a JSON object, not a string"),
    ],
)
def test_a_missing_or_misshapen_part_is_named(doc: Any, message: str) -> None:
    assert problem(json.dumps(doc).encode()) == message


def test_a_rules_missing_field_is_named_with_the_rule() -> None:
    first = SHIPPED["rules"][0]["id"]

    assert problem(changed(("rules", 0, "confidence"), None, delete=True)) == (
        f"rule {first}: 'confidence' is missing (a number)"
    )
    assert problem(changed(("rules", 0, "threshold"), "high")) == (
        f"rule {first}: 'threshold' must be a number, not 'high'"
    )
    assert problem(changed(("rules", 0, "id"), None, delete=True)) == (
        "rule #1: 'id' must be a non-empty string"
    )


def test_no_change_anywhere_in_the_document_leaks_an_exception_name() -> None:
    tried = 0
    for path in paths(SHIPPED):
        for raw in (changed(path, None, delete=True), *(changed(path, v) for v in WRONG_VALUES)):
            message = problem(raw)
            tried += 1
            if message is not None:
                assert not EXCEPTION_NAME.search(message), (path, message)
                assert message.strip(), path
    assert tried > 1000


def test_a_document_that_is_not_json_says_where_it_breaks() -> None:
    message = problem(b'{"name": "x"')

    assert message is not None
    assert message.startswith("not a valid rule set: Expecting ',' delimiter")
    assert not EXCEPTION_NAME.search(message)
