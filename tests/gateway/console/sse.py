"""Server-sent events as a browser reads them (the HTML standard, "Event stream
interpretation"), strict about what the gateway must send: every chunk is one whole frame; and a
reader of a generator of them (gateway.console.live.action_events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
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


class Reader:
    """The frames one generator yields, parsed as they come."""

    def __init__(self, frames: AsyncIterator[str]) -> None:
        self.frames = frames
        self.read: list[Frame] = []

    async def until(self, kind: str, within: float = 20.0) -> Frame:
        """Reads up to the next frame of `kind`; it is the last of self.read."""
        return await self.until_match(lambda frame: frame.kind == kind, within)

    async def until_match(self, wanted: Callable[[Frame], bool], within: float = 20.0) -> Frame:
        """Reads up to the next frame `wanted` accepts; it is the last of self.read."""
        async with asyncio.timeout(within):
            async for chunk in self.frames:
                self.read.append(parse(chunk))
                if wanted(self.read[-1]):
                    return self.read[-1]
        raise AssertionError(f"the frames ended before the one wanted: {self.read}")

    def kinds(self) -> list[str]:
        return [frame.kind for frame in self.read]
