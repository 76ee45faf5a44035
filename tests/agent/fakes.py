"""Test doubles for the agent's peers, and an Agent on a test database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runtime import paging
from runtime.db import Database
from runtime.errors import Unavailable
from services.agent.triage.domain.incidents import Incident
from services.agent.triage.domain.intake import Windows
from services.agent.triage.domain.proposals import Proposal
from services.agent.triage.service import listing
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.rulebook import RuleBook

NOW = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)


class FakeProposer:
    """Stands in for ops: remembers proposals, answers like ProposeAction (idempotent on
    source_ref), or fails as if ops were down."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.calls = 0
        self.proposals: list[Proposal] = []
        self._actions: dict[str, str] = {}

    async def propose(self, proposal: Proposal) -> str:
        self.calls += 1
        if self.down:
            raise Unavailable("ops is unreachable")
        self.proposals.append(proposal)
        return self._actions.setdefault(proposal.source_ref, f"act-{len(self._actions) + 1}")


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_agent(
    db: Database, proposer: FakeProposer | None = None, clock: Clock | None = None
) -> Agent:
    clock = clock or Clock()
    book = RuleBook.shipped(clock)
    windows = Windows(timedelta(minutes=10), timedelta(minutes=10))
    return Agent(db, proposer or FakeProposer(), book, windows, clock)


async def list_incidents(db: Database, *, limit: int) -> list[Incident]:
    """ListIncidents with the deprecated `limit`, as the servicer reads it."""
    page = await listing.incident_page(db, page_size=paging.page_size(limit, "limit"))
    return page.items
