"""Incident kinds are data: the active rule set declares them (its `kinds` object), each with a
one-line description and the metrics a desk is expected to report for it. Intake accepts exactly
the kinds the active rule set declares, so a desk's new kind of incident is a published rule set
version (audited like any rule change), never a code change."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from runtime.errors import InvalidArgument

# The spelling intake normalises a kind or a metric name to (lower case, "_" separators), so
# every declared name is one a report can actually arrive as.
NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
MAX_NAME, MAX_DESCRIPTION, MAX_KIND_METRICS = 64, 200, 50


@dataclass(frozen=True)
class Kind:
    description: str
    metrics: tuple[str, ...]


Kinds = Mapping[str, Kind]


class KindError(ValueError):
    """The `kinds` object is malformed; the message names the first problem."""


def parse_kinds(item: Any) -> dict[str, Kind]:
    """The `kinds` object of a rule set document, in its order (the order refusals list)."""
    if not isinstance(item, dict) or not item:
        raise KindError("'kinds' must be a non-empty object of kind name to kind")
    return {name: _kind(name, body) for name, body in item.items()}


def _kind(name: str, body: Any) -> Kind:
    check_name("kind", name)
    if not isinstance(body, dict) or set(body) - {"description", "metrics"}:
        raise KindError(f"kind {name!r} must be an object with 'description' and 'metrics'")
    description = body.get("description")
    if not isinstance(description, str) or not 0 < len(description.strip()) <= MAX_DESCRIPTION:
        raise KindError(f"kind {name!r}: 'description' must be 1 to {MAX_DESCRIPTION} characters")
    if "\n" in description:
        raise KindError(f"kind {name!r}: 'description' must be one line")
    metrics = body.get("metrics", [])
    if not isinstance(metrics, list) or len(metrics) > MAX_KIND_METRICS:
        raise KindError(f"kind {name!r}: 'metrics' must be a list of at most {MAX_KIND_METRICS}")
    for metric in metrics:
        check_name(f"kind {name!r}: metric", metric)
    if len(set(metrics)) != len(metrics):
        raise KindError(f"kind {name!r}: a metric is named twice")
    return Kind(description, tuple(metrics))


def check_name(what: str, name: Any) -> None:
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.match(name):
        raise KindError(
            f"{what} {name!r} must be 1 to {MAX_NAME} of a-z, 0-9 and '_' separators"
            " (the spelling intake normalises to)"
        )


def check_kind(kind: str, kinds: Collection[str], what: str = "kind") -> None:
    """Raises InvalidArgument naming the allowed kinds (the active rule set's) when `kind` is
    not one of them."""
    if kind not in kinds:
        raise InvalidArgument(f"{what} {kind!r} is not one of: {', '.join(kinds)}")
