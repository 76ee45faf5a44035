"""What a rule can see of an event: flat string facts ("outcome", "payload.check_id", ...),
the conditions on them, and the "{fact}" templates of step parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from runtime.errors import InvalidArgument

EVENT_FACTS = frozenset(
    {"event_id", "seq", "action", "target", "target_kind", "target_id", "outcome", "source"}
    | {"actor", "occurred_at"}
)
ACTION_FACTS = frozenset({"action.kind", "action.risk", "action.state"})
CONDITION_FACTS = EVENT_FACTS - {"event_id", "seq", "action", "occurred_at"}
MAX_VALUES = 50
_TEMPLATE = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def known(name: str) -> bool:
    return name in EVENT_FACTS or name in ACTION_FACTS or name.startswith("payload.")


def event_facts(
    *,
    seq: int,
    event_id: str,
    action: str,
    target: str,
    outcome: str,
    source: str,
    actor: str,
    occurred_at: str,
    payload_json: str,
) -> dict[str, str]:
    kind, _, ident = target.partition("/")
    facts = {
        "event_id": event_id,
        "seq": str(seq),
        "action": action,
        "target": target,
        "target_kind": kind,
        "target_id": ident,
        "outcome": outcome,
        "source": source,
        "actor": actor,
        "occurred_at": occurred_at,
    }
    return facts | _flatten("payload", _payload(payload_json))


def _payload(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}  # a redacted or malformed payload has no facts


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        found: dict[str, str] = {}
        for key, inner in value.items():
            found |= _flatten(f"{prefix}.{key}", inner)
        return found
    if isinstance(value, str):
        return {prefix: value}
    return {prefix: json.dumps(value, separators=(",", ":"))}


def conditions(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Conditions normalised to fact -> accepted values; InvalidArgument when malformed."""
    normalised = {}
    for name, value in raw.items():
        if (
            name not in CONDITION_FACTS
            and name not in ACTION_FACTS
            and not name.startswith("payload.")
        ):
            raise InvalidArgument(
                f"unknown condition {name!r}: use {', '.join(sorted(CONDITION_FACTS))}, "
                f"{', '.join(sorted(ACTION_FACTS))} or payload.<key>"
            )
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
            raise InvalidArgument(f"condition {name!r} must be a string or a list of strings")
        if not all(isinstance(v, str) for v in values):
            raise InvalidArgument(f"condition {name!r} must be a string or a list of strings")
        normalised[name] = tuple(values)
    return normalised


def needs_action(conditions: Mapping[str, tuple[str, ...]]) -> bool:
    return any(name in ACTION_FACTS for name in conditions)


def holds(conditions: Mapping[str, tuple[str, ...]], facts: Mapping[str, str]) -> bool:
    return all(facts.get(name) in values for name, values in conditions.items())


def templates_known(value: Any) -> None:
    """InvalidArgument when a parameter template names a fact no event can have."""
    for name in _names(value):
        if not known(name):
            raise InvalidArgument(f"parameter template {{{name}}} names no event fact")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return _TEMPLATE.findall(value)
    if isinstance(value, dict):
        return [n for inner in value.values() for n in _names(inner)]
    if isinstance(value, list):
        return [n for inner in value for n in _names(inner)]
    return []


def render(value: Any, facts: Mapping[str, str]) -> Any:
    """The parameters with every "{fact}" filled; a fact this event lacks is a ValueError."""
    if isinstance(value, str):
        return _TEMPLATE.sub(lambda m: _fact(facts, m.group(1)), value)
    if isinstance(value, dict):
        return {key: render(inner, facts) for key, inner in value.items()}
    if isinstance(value, list):
        return [render(inner, facts) for inner in value]
    return value


def _fact(facts: Mapping[str, str], name: str) -> str:
    if name not in facts:
        raise ValueError(f"the event has no fact {name!r} for the step's parameters")
    return facts[name]
