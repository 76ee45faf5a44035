"""A durable schedule of compliance runs: a named row due every `interval_s` seconds."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAME, DEFAULT_INTERVAL_S = "default", 900


@dataclass(frozen=True)
class Schedule:
    name: str = DEFAULT_NAME
    interval_s: int = DEFAULT_INTERVAL_S
