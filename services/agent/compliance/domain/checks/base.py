"""What a compliance check is: a versioned, described rule over the peers' contracts that
returns its verdict with evidence. Bump a check's version whenever its logic changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.agent.compliance.domain.views import (
    ActionView,
    ChainVerdict,
    EscalationView,
    ExportView,
)

PASS, FAIL, ERROR = "pass", "fail", "error"


class PeerError(Exception):
    """A peer refused or failed a read the check needed: the check is ERROR, naming why."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"a peer answered {code}: {details}")


class Sources(Protocol):
    """The peers' data, read through their gRPC contracts; implementations cache per run."""

    async def actions(self) -> Sequence[ActionView]: ...
    async def escalation_policies(self) -> Mapping[str, EscalationView]: ...
    async def escalated_at(self, action_id: str) -> Sequence[datetime]: ...
    async def exports(self) -> Sequence[ExportView]: ...
    async def verify_chain(self) -> ChainVerdict: ...


@dataclass(frozen=True)
class Limits:
    """Deadlines the checks judge against (configurable, see Settings)."""

    export_verify_within: timedelta = timedelta(hours=24)
    escalation_grace: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Finding:
    ref: str
    reason: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: str
    examined: int
    findings: tuple[Finding, ...] = ()
    detail: str = ""


def verdict(examined: int, findings: Sequence[Finding], what: str) -> Outcome:
    if findings:
        return Outcome(FAIL, examined, tuple(findings), f"{len(findings)} of {examined} {what}")
    return Outcome(PASS, examined, (), f"{examined} {what} examined, none in breach")


Evaluate = Callable[[Sources, Limits, datetime], Awaitable[Outcome]]


@dataclass(frozen=True)
class Check:
    id: str
    version: int
    description: str
    evaluate: Evaluate
