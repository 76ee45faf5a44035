"""The list of audit event types: every event name the product code spells (`ops.action.approved`,
`agent.execution.{}` where a part is filled in at run time), with the words of
audit_events.toml, grouped by the service that records it.

An event name is a string of two or more dotted lower-case words starting with a process's name.
The code spells other such strings (table columns for foreign keys, logger names, prefixes):
those the scan cannot tell apart are listed under `not_events` in the catalog, each with why."""

from __future__ import annotations

import re
from collections.abc import Iterator

from docgen import source
from docgen.catalog import DocsError, cell, load

SOURCES = ("gateway", "agent", "ops", "export", "audit")
EVENT = re.compile("(?:" + "|".join(SOURCES) + r"|\{\})(?:\.[a-z_{}]+)+")
# Calls whose string arguments name something else: a column, a logger.
NOT_EVENT_CALLS = frozenset({"ForeignKey", "getLogger"})


def spelled() -> dict[str, str]:
    """Each event-shaped string and the first place it is spelled."""
    found: dict[str, str] = {}
    for text in source.everything():
        if EVENT.fullmatch(text.text) and text.call not in NOT_EVENT_CALLS:
            found.setdefault(text.text, f"{text.path.relative_to(source.ROOT)}:{text.line}")
    return found


def table() -> str:
    catalog = load("audit_events.toml")
    events: dict[str, str] = catalog["events"]
    _check(events, catalog.get("not_events", {}), spelled())
    lines = ["| event | recorded when |", "| --- | --- |"]
    for name, words in events.items():
        lines.append(f"| `{name.replace(source.UNKNOWN, '*')}` | {cell(words)} |")
    return "\n".join(lines)


def _check(events: dict[str, str], not_events: dict[str, str], code: dict[str, str]) -> None:
    wrong = list(_differences(events, not_events, code))
    if wrong:
        raise DocsError("\n".join(wrong))


def _differences(
    events: dict[str, str], not_events: dict[str, str], code: dict[str, str]
) -> Iterator[str]:
    for name, where in code.items():
        if name not in events and name not in not_events:
            yield f"{name} ({where}) is in neither list of docgen/audit_events.toml"
    for name in [*events, *not_events]:
        if name not in code:
            yield f"docgen/audit_events.toml lists {name}, which no product code spells"
