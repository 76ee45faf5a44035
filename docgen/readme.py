"""The generated parts of a Markdown file: each sits between `<!-- make docs: NAME -->` and
`<!-- end make docs -->`, and only those lines are ever written."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from docgen.catalog import DocsError

END = "<!-- end make docs -->"
PART = re.compile(r"(<!-- make docs: ([a-z-]+) -->\n)(.*?)(" + re.escape(END) + ")", re.S)


def parts(text: str) -> dict[str, str]:
    """Each generated part's name and what the file holds there now."""
    return {match.group(2): match.group(3).rstrip("\n") for match in PART.finditer(text)}


def regenerated(text: str, makers: Mapping[str, Callable[[], str]]) -> str:
    """The file with every part made again; a part the file lacks, or one without a maker, is
    an error (a renamed marker must not silently stop a table from being checked)."""
    missing = set(makers) - set(parts(text))
    unknown = set(parts(text)) - set(makers)
    if missing or unknown:
        raise DocsError(f"markers missing: {sorted(missing)}; unknown: {sorted(unknown)}")
    return PART.sub(lambda m: f"{m.group(1)}{makers[m.group(2)]()}\n{m.group(4)}", text)
