"""The JSON path subset probes read: `$` then `.name`, `["name"]` or `[index]` steps, for
example `$.feeds[0].latency_ms` or `$["md-gw"].lag`. Wildcards and filters are refused: a
reading names exactly one value."""

from __future__ import annotations

import json
import re
from typing import Any

from runtime.errors import InvalidArgument

_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
MAX_PATH = 500

Step = str | int


class Missing(LookupError):
    """The body has no value at the path."""


def parse_path(path: str) -> tuple[Step, ...]:
    if not path.startswith("$") or len(path) > MAX_PATH:
        raise InvalidArgument(f"path {path!r} must start with '$' (for example $.status.lag_ms)")
    steps: list[Step] = []
    at = 1
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None:
            raise InvalidArgument(f"path {path!r} is not understood at character {at}")
        name, index, quoted = match.groups()
        steps.append(name if name is not None else int(index) if index else json.loads(quoted))
        at = match.end()
    if not steps:
        raise InvalidArgument("path must name a value below '$'")
    return tuple(steps)


def read(document: Any, path: str) -> Any:
    value = document
    for step in parse_path(path):
        if not _has(value, step):
            raise Missing(f"no value at {path}")
        value = value[step]
    return value


def _has(value: Any, step: Step) -> bool:
    if isinstance(step, int):
        return isinstance(value, list) and step < len(value)
    return isinstance(value, dict) and step in value
