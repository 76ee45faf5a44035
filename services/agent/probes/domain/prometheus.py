"""The sample a probe reads from a Prometheus text-format (0.0.4) body: the one sample of the
named metric whose labels include the wanted ones. No sample, or several that match, is an
error naming why, never a guess."""

from __future__ import annotations

import re
from collections.abc import Mapping

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


class Unreadable(ValueError):
    """The body has no single matching sample, or it is not the text format."""


def sample(body: str, metric: str, wanted: Mapping[str, str]) -> float:
    found = [
        value
        for name, labels, value in _samples(body)
        if name == metric and all(labels.get(k) == v for k, v in wanted.items())
    ]
    if not found:
        raise Unreadable(f"no sample of {metric}{_show(wanted)}")
    if len(found) > 1:
        raise Unreadable(f"{len(found)} samples of {metric}{_show(wanted)}; name more labels")
    return found[0]


def _samples(body: str) -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SAMPLE.match(line.strip())
        if match is None:
            raise Unreadable(f"line {number} is not a Prometheus sample")
        name, _, labels, value, _ = match.groups()
        samples.append((name, _labels(labels or "", number), _number(value, number)))
    return samples


def _labels(text: str, number: int) -> dict[str, str]:
    labels, at = {}, 0
    while at < len(text):
        match = _LABEL.match(text, at)
        if match is None:
            raise Unreadable(f"line {number} has malformed labels")
        labels[match.group(1)] = re.sub(r"\\.", lambda m: _ESCAPES.get(m[0], m[0]), match[2])
        at = match.end()
    return labels


def _number(text: str, number: int) -> float:
    try:
        return float(text)  # also "+Inf", "-Inf" and "NaN", as the format allows
    except ValueError:
        raise Unreadable(f"line {number} has a value that is not a number") from None


def _show(wanted: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(wanted.items())) + "}" if wanted else ""
