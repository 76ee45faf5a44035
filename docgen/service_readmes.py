"""Each service README's settings table, held to the code: every variable the service's own code
reads is in it, every name in it is one the code reads, and each default the code passes is the
one it shows. These tables keep their own words (what the setting means to that service), so
they are checked rather than generated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from docgen import settings, source
from docgen.catalog import DocsError

SERVICES = ("agent", "ops", "export", "audit")
ROW = re.compile(r"^\| (`[^|]*`[^|]*) \| ([^|]*(?:\\\|[^|]*)*) \|", re.M)


def check() -> None:
    code = settings.reads()
    catalog = settings.catalog_names()
    wrong = [
        problem
        for name in SERVICES
        for problem in problems(name, _readme(name).read_text(), code, catalog)
    ]
    if wrong:
        raise DocsError("\n".join(wrong))


def rows(text: str, read: set[str]) -> dict[str, str]:
    """The settings table's variables and the default shown for each. A row may shorten the
    names after its first (`TRADEOPS_AGENT_PROBE_POLL_S` / `_BATCH`): each is the first name
    with a tail replaced, the one the code reads."""
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for match in ROW.finditer(section):
        names = re.findall(r"`((?:TRADEOPS|OTEL)?_[A-Z0-9_<>]+)`", match.group(1))
        for name in names:
            found[_expanded(name, names[0], read)] = match.group(2)
    return found


def _expanded(name: str, first: str, read: set[str]) -> str:
    if not name.startswith("_"):
        return name
    heads = [first[:i] for i, char in enumerate(first) if char == "_" and i > len("TRADEOPS")]
    return next((h + name for h in reversed(heads) if h + name in read), first + name)


def _readme(service: str) -> Path:
    return source.ROOT / "services" / service / "README.md"


def problems(
    service: str, text: str, code: dict[str, settings.Read], catalog: set[str]
) -> Iterator[str]:
    """What is wrong with one service README's settings table (`text`)."""
    where = f"services/{service}/README.md"
    shown = rows(text, set(code))
    for name, default in shown.items():
        if not settings.is_known(name, catalog):
            yield f"{where} lists {name}, which is not a setting the code reads"
        for literal in code[name].defaults if name in code else ():
            if f"`{literal}`" not in default:
                yield f"{where}: {name} defaults to `{literal}` in the code, not {default!r}"
    for name, read in code.items():
        own = any(place.startswith(f"services/{service}/") for place in read.places)
        exact = settings.NAME.fullmatch(name) and "{}" not in name and not name.endswith("_")
        if own and exact and name not in shown:
            yield f"{where} does not list {name} ({read.places[0]})"
