"""The page benchmarks' seeder (bench/_seed_actions.py): every action it writes is one the ops
service could hold: its votes are ones the vote accepts and lead where its state says, its
approvable_by is what the service would store, and its deadline follows from its policy."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text

from runtime.db import Database
from services.ops.domain.actions import Action, State
from services.ops.domain.counting import counting_roles
from services.ops.domain.quorum import decide
from services.ops.repository import actions

BENCH = Path(__file__).resolve().parents[2] / "bench"
COUNT, PENDING = 3000, 600
APPROVED_ON = frozenset(
    {State.APPROVED, State.EXECUTING, State.EXECUTED, State.FAILED, State.OUTCOME_UNKNOWN}
)


@pytest.fixture(scope="module")
def seeder() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))  # the benchmarks import their helpers by name
    try:
        import _seed_actions

        yield _seed_actions
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
async def seeded(db_urls: dict[str, str], seeder: ModuleType) -> AsyncIterator[Database]:
    """The seeder commits on its own connection: what it wrote is removed afterwards."""
    db = Database.connect(db_urls["ops"])
    await seeder.seed(db_urls["ops"], COUNT, PENDING, now=datetime.now(UTC))
    try:
        yield db
    finally:
        async with db.transaction() as session:
            for table in ("timers", "votes"):
                await session.execute(
                    text(
                        f"DELETE FROM ops.{table} WHERE action_id IN"
                        " (SELECT id FROM ops.actions WHERE source_ref LIKE 'seed/%')"
                    )
                )
            await session.execute(text("DELETE FROM ops.actions WHERE source_ref LIKE 'seed/%'"))
        await db.dispose()


async def test_every_seeded_action_is_one_the_service_could_hold(seeded: Database) -> None:
    async with seeded.transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT id::text, approvable_by FROM ops.actions WHERE source_ref LIKE 'seed/%'"
                )
            )
        ).all()
        loaded = {a.id: a for a in [await actions.get(session, row.id) for row in rows] if a}
        timers = await session.scalar(
            text(
                "SELECT count(*) FROM ops.timers t JOIN ops.actions a ON a.id = t.action_id"
                " WHERE a.source_ref LIKE 'seed/%' AND t.kind = 'expire' AND t.state = 'pending'"
            )
        )
    by_state = Counter(a.state for a in loaded.values())

    assert len(loaded) == COUNT
    assert by_state[State.PENDING_APPROVAL] == PENDING == timers
    assert len(by_state) == len(State)
    for row in rows:
        action = loaded[row.id]
        assert row.approvable_by == sorted(counting_roles(action)), action
        assert action.expires_at == action.created_at + action.policy.pending_ttl
        assert _replayed(action) == _expected(action), action


def _replayed(action: Action) -> State | None:
    """Where the counted votes take the action from pending, each one through the domain."""
    counted = [v for v in action.votes if not v.voided]
    current = replace(
        action,
        state=State.PENDING_APPROVAL,
        votes=tuple(v for v in action.votes if v.voided),
        claimed_by="",
    )
    reached: State | None = None
    for vote in counted:
        assert reached is None, "a vote after the decision"
        current, reached = decide(current, vote)
    return reached


def _expected(action: Action) -> Any:
    if action.state in APPROVED_ON:
        return State.APPROVED
    return State.REJECTED if action.state is State.REJECTED else None


async def test_the_pending_ones_are_all_still_open(seeded: Database) -> None:
    now = datetime.now(UTC)
    async with seeded.transaction() as session:
        first_deadline = await session.scalar(
            text(
                "SELECT min(expires_at) FROM ops.actions"
                " WHERE source_ref LIKE 'seed/%' AND state = 'PENDING_APPROVAL'"
            )
        )
    assert first_deadline > now
