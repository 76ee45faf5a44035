"""What the drills' clients saw: each acknowledged thing by id, and each failure."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

KEY_REFUSED = "Idempotency-Key"  # in the message of runtime.idempotency's 409s


@dataclass(frozen=True)
class Failure:
    what: str
    status: str  # an HTTP status, a gRPC code, or the transport error's class name
    seconds: float
    body: str = ""
    at: float = field(default_factory=time.monotonic)  # when the client saw it


@dataclass
class Acks:
    """Everything the system acknowledged, by id."""

    incidents: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)  # idempotency key -> export id
    # Keys whose first call was cut off (a kill, a database outage): runtime.idempotency then
    # refuses every retry (409, never a second run); the client gives such a key up.
    abandoned: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "incidents": len(self.incidents),
            "decisions": len(self.decisions),
            "approvals": len(self.approvals),
            "exports": len(self.exports),
            "events": len(self.events),
        }


def key_refused(failure: Failure) -> bool:
    """runtime.idempotency's refusal of a key whose first call was cut off (409)."""
    return failure.status == "409" and KEY_REFUSED in failure.body
