"""Refusals (401 and 403 at the gateway, UNAUTHENTICATED and PERMISSION_DENIED at a service's
guard) are audited, and anyone can cause them, so how many become records is bounded here and
what they copy from the request is cut short.

A source is the caller's subject when the token was good but lacked the role
(`subject:<sub>`), else the network peer the process sees (`peer:<host>`, no port: the gateway
takes the client address of the connection and trusts no X-Forwarded-For; a service takes the
gRPC peer). A source's window opens at its first refusal and lasts `window_s`. In it, the
first refusal of each target (route or RPC), up to ON_THEIR_OWN targets, is recorded on its
own as before; every other refusal is only counted. When the window closes, what it counted
becomes one `<name>.access.denied.aggregated` event (payload: count, window, first and last
time, up to MAX_LISTED distinct targets and reasons). At most `max_sources` windows are open;
the refusals of sources beyond that are counted together in one
`<name>.access.denied.overflow` event per window (with up to MAX_LISTED of the sources), so
nothing is dropped unsaid. An event on its own counts one refusal, an aggregate or overflow
event its payload's `count`: summed over the log, that is every refusal there was.

Every value a refusal copies from the request (path, method, reason text, subject) goes
through runtime.clipping.clip first."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from runtime.clipping import clip

ON_THEIR_OWN = 5
MAX_LISTED = 5
OVERFLOW = "*"

A = TypeVar("A")


@dataclass(frozen=True)
class RefusalSettings:
    window_s: float = 60.0  # 0 records every refusal on its own
    max_sources: int = 10_000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RefusalSettings:
        window_s = float(env.get("TRADEOPS_REFUSAL_WINDOW_S", "60"))
        max_sources = int(env.get("TRADEOPS_REFUSAL_MAX_SOURCES", "10000"))
        if window_s < 0:
            raise ValueError(f"TRADEOPS_REFUSAL_WINDOW_S must be 0 or more, got {window_s}")
        if max_sources < 1:
            raise ValueError(f"TRADEOPS_REFUSAL_MAX_SOURCES must be 1 or more, got {max_sources}")
        return cls(window_s, max_sources)


DEFAULT_REFUSALS = RefusalSettings()


def source_of(subject: str | None, peer_host: str) -> str:
    return f"subject:{subject}" if subject is not None else f"peer:{clip(peer_host) or 'unknown'}"


@dataclass
class Tally(Generic[A]):
    """One window: the targets it recorded on their own, and what it only counted."""

    source: str
    actor: A  # the first refusal's caller
    opened: float  # monotonic
    started_at: datetime
    on_their_own: set[str] = field(default_factory=set)
    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    targets: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the overflow's only
    # Refusals whose target is not among `targets`: a caller who fills the list with harmless
    # routes first cannot make the one that matters vanish without a trace.
    unlisted: int = 0

    def add(self, source: str, target: str, reason: str) -> None:
        now = datetime.now(UTC)
        self.count += 1
        self.first_at = self.first_at or now
        self.last_at = now
        for listed, value in ((self.targets, target), (self.reasons, reason)):
            if len(listed) < MAX_LISTED and value not in listed:
                listed.append(value)
        if target not in self.targets:
            self.unlisted += 1
        overflow = self.source == OVERFLOW
        if overflow and len(self.sources) < MAX_LISTED and source not in self.sources:
            self.sources.append(source)

    def absorb(self, other: Tally[A]) -> None:
        """Takes over `other`'s counts (an overflow folding in windows it cannot keep apart)."""
        self.count += other.count
        self.unlisted += other.unlisted
        times = [t for t in (self.first_at, other.first_at) if t]
        self.first_at = min(times) if times else None
        times = [t for t in (self.last_at, other.last_at) if t]
        self.last_at = max(times) if times else None
        if len(self.sources) < MAX_LISTED and other.source not in self.sources:
            self.sources.append(other.source)

    def event(self, name: str, settings: RefusalSettings) -> tuple[str, str, dict[str, Any]]:
        """The closed window's (action, target, payload)."""
        overflow = self.source == OVERFLOW
        payload: dict[str, Any] = {
            "source": self.source,
            "count": self.count,
            "window_s": settings.window_s,
            "window_started_at": self.started_at.isoformat(),
            "first_at": self.first_at.isoformat() if self.first_at else "",
            "last_at": self.last_at.isoformat() if self.last_at else "",
            "targets": self.targets,
            "unlisted_targets_count": self.unlisted,
            "reasons": self.reasons,
        }
        if overflow:
            payload.update(sources=self.sources, max_sources=settings.max_sources)
        target = self.targets[0] if len(self.targets) == 1 else name
        return f"{name}.access.denied.{'overflow' if overflow else 'aggregated'}", target, payload


class RefusalWindows(Generic[A]):
    """The open windows of one process; not thread-safe (one event loop uses it)."""

    def __init__(
        self, settings: RefusalSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings, self._clock = settings, clock
        self._open: dict[str, Tally[A]] = {}  # oldest first: windows all last as long
        self._closed: list[Tally[A]] = []
        self._overflow: Tally[A] | None = None

    def note(self, source: str, actor: A, target: str, reason: str) -> bool:
        """Whether this refusal is to be recorded on its own; if not, it has been counted."""
        now = self._clock()
        tally = self._open.get(source)
        if tally is not None and self._ended(tally, now):
            self._closed.append(self._open.pop(source))
            tally = None
        if tally is None:
            if len(self._open) >= self.settings.max_sources:
                self._overflowed(actor, now).add(source, target, reason)
                return False
            tally = self._open[source] = Tally(source, actor, now, datetime.now(UTC))
        if target not in tally.on_their_own and len(tally.on_their_own) < ON_THEIR_OWN:
            tally.on_their_own.add(target)
            return True
        tally.add(source, target, reason)
        return False

    def closed(self, everything: bool = False) -> list[Tally[A]]:
        """Takes the windows that have ended (all of them with `everything`) and returns those
        that counted anything."""
        now = self._clock()
        taken, self._closed = self._closed, []
        while self._open:
            tally = next(iter(self._open.values()))
            if not (everything or self._ended(tally, now)):
                break
            taken.append(self._open.pop(tally.source))
        if self._overflow is not None and (everything or self._ended(self._overflow, now)):
            taken.append(self._overflow)
            self._overflow = None
        return [tally for tally in taken if tally.count]

    def retry(self, tally: Tally[A]) -> None:
        """A closed window whose event could not be recorded: returned by the next `closed`.
        While the log stays away, what waits is bounded too: past `max_sources` windows, the
        oldest are folded into one overflow window that keeps their count."""
        self._closed.append(tally)
        if len(self._closed) > self.settings.max_sources:
            first = self._closed[0]
            if first.source != OVERFLOW:
                first = Tally(OVERFLOW, first.actor, first.opened, first.started_at)
                first.absorb(self._closed[0])
                self._closed[0] = first
            while len(self._closed) > self.settings.max_sources:
                first.absorb(self._closed.pop(1))

    def next_close_in(self) -> float | None:
        """Seconds until a window ends (0 if one already has); None when none is open."""
        if self._closed:
            return 0.0
        opened = [t.opened for t in (next(iter(self._open.values()), None), self._overflow) if t]
        if not opened:
            return None
        return max(0.0, min(opened) + self.settings.window_s - self._clock())

    def _ended(self, tally: Tally[A], now: float) -> bool:
        return now - tally.opened >= self.settings.window_s

    def _overflowed(self, actor: A, now: float) -> Tally[A]:
        if self._overflow is None:
            self._overflow = Tally(OVERFLOW, actor, now, datetime.now(UTC))
        return self._overflow
