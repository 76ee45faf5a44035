"""Server-sent events as a browser reads them (the HTML standard, "Event stream
interpretation"), strict about what the gateway must send: every chunk is one whole frame."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("event", "data", "retry", "id")


@dataclass
class Frame:
    event: str = "message"
    data: list[str] = field(default_factory=list)
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """ "keepalive", "retry", or the event's name."""
        if self.comments and not self.data:
            return "keepalive" if self.comments == [" keepalive"] else "comment"
        if self.retry is not None and not self.data:
            return "retry"
        return self.event

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


def parse(chunk: str) -> Frame:
    """One chunk the generator yielded, which must be exactly one frame."""
    assert chunk.endswith("\n\n"), f"a frame ends with a blank line: {chunk!r}"
    lines = chunk[:-2].split("\n")
    assert lines, "an empty frame"
    assert "" not in lines, f"one frame per chunk: {chunk!r}"
    assert "\r" not in chunk, f"lines end with LF only: {chunk!r}"
    frame = Frame()
    for line in lines:
        if line.startswith(":"):
            frame.comments.append(line[1:])
            continue
        name, colon, value = line.partition(":")
        assert colon, f"not a field line: {line!r}"
        assert name in FIELDS, f"not a field line: {line!r}"
        value = value.removeprefix(" ")
        if name == "event":
            frame.event = value
        elif name == "data":
            frame.data.append(value)
        elif name == "retry":
            assert value.isdigit(), f"retry takes digits only: {line!r}"
            frame.retry = int(value)
    if frame.data:
        frame.json()  # every data line the gateway sends is JSON
    return frame
