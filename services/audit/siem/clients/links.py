"""What the forwarder needs of a sender, and the sender for a destination's transport."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from runtime.egress import EgressPolicy
from services.audit.siem.clients.http import HttpLink
from services.audit.siem.clients.relp import RelpLink
from services.audit.siem.clients.syslog import StreamLink
from services.audit.siem.domain.batches import Position
from services.audit.siem.settings import RELP, Destination


class Link(Protocol):
    # Whether confirmed() reports the receiver's own answers (RELP, HTTP), which stay true
    # after the link failed, rather than time on a connection that looked healthy (TCP, TLS).
    acknowledges: bool

    async def open(self) -> None: ...
    async def send(self, messages: Sequence[bytes], marks: Sequence[Position]) -> None: ...
    def confirmed(self) -> Position | None: ...
    async def close(self) -> None: ...


def link_for(destination: Destination, egress: EgressPolicy) -> Link:
    if destination.transport == "http":
        return HttpLink(destination, egress)
    if destination.transport in RELP:
        return RelpLink(destination, egress)
    return StreamLink(destination, egress)
