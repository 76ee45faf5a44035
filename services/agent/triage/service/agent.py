"""What triage's use cases share: the database, the ops proposer, the rule book, the intake
windows and injected clocks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runtime.db import Database
from services.agent.triage.domain.intake import Windows
from services.agent.triage.domain.proposals import Proposer
from services.agent.triage.domain.triage import Timer
from services.agent.triage.service.rulebook import RuleBook

Clock = Callable[[], datetime]
DEFAULT_WINDOWS = Windows()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Agent:
    db: Database
    proposer: Proposer
    book: RuleBook
    windows: Windows = DEFAULT_WINDOWS
    clock: Clock = utc_now
    timer: Timer = field(default=time.perf_counter)
