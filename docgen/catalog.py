"""Reading a catalog: a TOML file of this package, and the one error every generator raises."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class DocsError(ValueError):
    """The code and a catalog disagree: the message says which name, and where."""


def load(name: str) -> dict[str, Any]:
    with (HERE / name).open("rb") as file:
        return tomllib.load(file)


def cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
