"""The configuration table: every environment variable the product code reads, with the default
the code gives it and the words of settings.toml.

A name the code spells must be in the catalog (or in its `internal` list, with why); a name in
the catalog must be spelled by the code (`external` rows, like OpenTelemetry's own variables,
excepted). `<SVC>` in a catalog name stands for a part the code fills in at run time. The
default shown is the catalog's when it gives one (then every literal default the code passes
for that name must appear in it), else the code's literal, else "unset"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from docgen import source
from docgen.catalog import DocsError, cell, load

NAME = re.compile(r"(TRADEOPS_|\{\}_)[A-Z0-9_{}]*[A-Z0-9}]")
PLACEHOLDER = re.compile(r"<[A-Z]+>")
# Calls that write a variable rather than read it: what they pass is no default.
WRITES = frozenset({"setdefault"})


@dataclass(frozen=True)
class Read:
    """What the code says of one spelled name: where, and the literal defaults it passes."""

    places: list[str]
    defaults: set[str]


def reads() -> dict[str, Read]:
    found: dict[str, Read] = {}
    for spelled in source.everything():
        if NAME.fullmatch(spelled.text):
            read = found.setdefault(spelled.text, Read([], set()))
            read.places.append(f"{spelled.path.relative_to(source.ROOT)}:{spelled.line}")
            default = spelled.next_argument
            if spelled.call not in WRITES and default not in (None, ""):
                read.defaults.add(str(default))
    return found


def table() -> str:
    catalog = load("settings.toml")
    code = reads()
    rows = catalog["setting"]
    _check(rows, catalog.get("internal", {}), code)
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for row in rows:
        label = row.get("label") or " / ".join(f"`{n}`" for n in row["names"])
        default = row.get("default") or _code_default(row["names"], code)
        lines.append(f"| {cell(label)} | {cell(default)} | {cell(row['meaning'])} |")
    return "\n".join(lines)


def _code_default(names: Iterable[str], code: dict[str, Read]) -> str:
    shown = []
    for name in names:
        defaults = code[name].defaults if name in code else set()
        shown.append(f"`{next(iter(defaults))}`" if defaults else "unset")
    return " / ".join(shown)


def _check(rows: list[dict[str, Any]], internal: dict[str, str], code: dict[str, Read]) -> None:
    listed = [n for row in rows if not row.get("external") for n in row["names"]]
    wrong = list(_unlisted(code, {*listed, *internal}))
    for name in listed:
        wrong.extend(_unread(name, code))
        wrong.extend(_defaults(name, code, _shown_default(rows, name)))
    if wrong:
        raise DocsError("\n".join(wrong))


def _shown_default(rows: list[dict[str, Any]], name: str) -> str:
    return next(str(row.get("default", "")) for row in rows if name in row["names"])


def _unlisted(code: dict[str, Read], listed: set[str]) -> Iterator[str]:
    samples = [_sample(n) for n in listed]
    for name, read in code.items():
        if name.endswith("_") or _vague(name):
            continue  # a prefix: the names made from it are checked as catalog names are read
        if not any(re.fullmatch(_code_pattern(name), sample) for sample in samples):
            yield f"{name} ({read.places[0]}) is not in docgen/settings.toml"


def _unread(name: str, code: dict[str, Read]) -> Iterator[str]:
    sample = _sample(name)
    for spelled in code:
        if _vague(spelled):
            continue
        if spelled.endswith("_") and sample.startswith(spelled):
            return
        if re.fullmatch(_code_pattern(spelled), sample):
            return
    yield f"docgen/settings.toml lists {name}, which no product code reads"


def _defaults(name: str, code: dict[str, Read], shown: str) -> Iterator[str]:
    defaults = code[name].defaults if name in code else set()
    if len(defaults) > 1:
        yield f"{name} has several defaults in the code: {sorted(defaults)}"
    for default in defaults:
        if shown and f"`{default}`" not in shown:
            yield f"{name}: the code's default `{default}` is not in {shown!r}"


def catalog_names() -> set[str]:
    """Every name the configuration table lists, `<PART>`s and all."""
    catalog = load("settings.toml")
    return {n for row in catalog["setting"] for n in row["names"]} | set(catalog["internal"])


def is_known(name: str, listed: set[str]) -> bool:
    """Whether a name (the code's `TRADEOPS_AGENT_ADDR`, or a `<SVC>` form) is one the table
    lists, directly or as an instance of a `<PART>` name."""
    for known in listed:
        pattern = PLACEHOLDER.sub(lambda m: f"(?:{m.group()}|[A-Z0-9_]+)", known)
        if re.fullmatch(pattern, name):
            return True
    return False


def _code_pattern(spelled: str) -> str:
    """The names a spelling of the code may stand for: each run-time part, any name part."""
    return re.escape(spelled).replace(re.escape(source.UNKNOWN), "[A-Z0-9_]+")


def _sample(name: str) -> str:
    """A name as the code would spell it, each `<PART>` made concrete."""
    return PLACEHOLDER.sub("AGENT", name)


def _vague(spelled: str) -> bool:
    """Too little of it is known to say which variable it is (`TRADEOPS_{}`)."""
    return len(spelled.replace(source.UNKNOWN, "").replace("TRADEOPS_", "").strip("_")) < 4
