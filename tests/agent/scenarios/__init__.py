"""A library of realistic desk incidents (desk_incidents.json) with the category and severity the
baseline rule set must give each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LIBRARY = Path(__file__).resolve().parent / "desk_incidents.json"


def scenarios() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(LIBRARY.read_text())["scenarios"]
    return loaded
