"""N actions in every state in the ops schema, for the page benchmarks; import-only (`make bench`
skips bench/_*.py), or by hand on a migrated database:
`.venv/bin/python bench/_seed_actions.py postgresql://... --actions 1000000 --pending 100000`.

Every row is one the service could have written: _seed_patterns.py plays each kind, risk and
state through the ops domain once (the policy that governs it, snapshotted as
repository.actions.row_of writes it, approvable_by included; votes the domain accepts), and
each action here is one of those patterns with its own id, requester, voters, times and
references. Actions, votes and each pending action's pending "expire" timer go in by COPY;
nothing else (no timeline or outbox rows). Pending actions were proposed in the last 40
minutes, so none expires while a benchmark runs."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from _seed_patterns import CLAIMED, KINDS, RISKS, Found, Pattern, patterns

from runtime.db import Database
from services.ops.domain.actions import State
from services.ops.repository import policies
from services.ops.repository.actions import row_of

# Besides the pending ones, in these proportions.
DECIDED = ((State.EXECUTED, 50), (State.EXPIRED, 17), (State.REJECTED, 11), (State.APPROVED, 6),
           (State.CANCELLED, 6), (State.FAILED, 8), (State.EXECUTING, 1),
           (State.OUTCOME_UNKNOWN, 1))  # fmt: skip
PEOPLE = {
    "ops": tuple(f"ops-{n:03d}" for n in range(1, 61)),
    "compliance": tuple(f"compliance-{n:02d}" for n in range(1, 16)),
    "admin": ("admin-1", "admin-2", "admin-3"),
}
# Traders request most actions; a third of the ops people request some too.
REQUESTERS = tuple(f"trader-{n:03d}" for n in range(1, 201)) + PEOPLE["ops"][:20]
EDITED_ONE_IN = 30  # pending actions with new parameters nobody has voted on yet
NARROW = ("id", "requested_by", "parameters_author", "source_ref", "incident_id", "decision_id",
          "created_at", "updated_at", "expires_at", "decided_at", "valid_until", "assignee",
          "claimed_by")  # fmt: skip
DUE = NARROW.index("expires_at")
JSON = frozenset({"parameters", "policy", "proposed_by"})
VOTE_COLUMNS = "id, action_id, voter, roles, approve, comment, at, parameters_version, voided"


@dataclass(frozen=True)
class Seeded:
    actions: int
    pending: int
    votes: int
    seconds: float

    def describe(self) -> str:
        counts = f"{self.actions:,} actions ({self.pending:,} pending), {self.votes:,} votes"
        return f"seeded {counts} in {self.seconds:.0f} s"


class Stamper:
    """One action of a pattern: people's names for its placeholders, its own times and ids."""

    def __init__(self, found: Found, now: datetime) -> None:
        self.now, self.rng = now, random.Random(20)
        self.plain = {k: [p for p in v if not p.edited] for k, v in found.items()}
        self.edited = {k: [p for p in v if p.edited] for k, v in found.items()}
        self.risks = [r for r, _ in RISKS]
        self.weights = list(itertools.accumulate(w for _, w in RISKS))

    def action(self, n: int, state: State) -> tuple[int, tuple[Any, ...], list[tuple[Any, ...]]]:
        """The pattern's number, the action's NARROW values, its votes' rows."""
        key = (self.rng.choice(KINDS), self.rng.choices(self.risks, cum_weights=self.weights)[0])
        pattern = self._pattern((*key, state))
        requester = self.rng.choice(REQUESTERS)
        names = self._names(pattern, requester)
        created, decided = self._times(state)
        action_id = str(uuid.uuid4())
        cast = [
            (str(uuid.uuid4()), action_id, names[who], roles, approve, "",
             created + timedelta(seconds=after), version, voided)
            for who, roles, approve, after, version, voided in pattern.votes
        ]  # fmt: skip
        expires = created + pattern.ttl
        last = expires if state is State.EXPIRED else decided or created
        updated = max([created, last, *(v[6] for v in cast)])
        approved = state is State.APPROVED or state in CLAIMED
        claimed = pattern.action.claimed_by
        row = (action_id, requester, names.get("@editor", requester),
               f"seed/{n}", f"inc-{n // 3}", f"dec-{n}", created, updated, expires, decided,
               decided + pattern.validity if approved and decided else None,
               self.rng.choice(PEOPLE["ops"]) if n % 3 == 0 else "",
               f"person:{names['@claimant']}" if claimed == "@claimant" else claimed)  # fmt: skip
        return pattern.number, row, cast

    def _pattern(self, key: Any) -> Pattern:
        edited = self.edited[key]
        if edited and self.rng.randrange(EDITED_ONE_IN) == 0:
            return self.rng.choice(edited)
        return self.rng.choice(self.plain[key])

    def _names(self, pattern: Pattern, requester: str) -> dict[str, str]:
        """Distinct people, none of them the requester."""
        names: dict[str, str] = {}
        for placeholder, role in pattern.placeholders:
            while (name := self.rng.choice(PEOPLE[role])) in (requester, *names.values()):
                pass
            names[placeholder] = name
        return names

    def _times(self, state: State) -> tuple[datetime, datetime | None]:
        minute = timedelta(minutes=1)
        if state is State.PENDING_APPROVAL:  # all still open while the benchmark runs
            return self.now - self.rng.uniform(0, 40) * minute, None
        if state is State.APPROVED:  # still within its validity window
            created = self.now - self.rng.uniform(6, 12) * minute
            return created, created + 5 * minute
        created = self.now - self.rng.uniform(120, 60 * 24 * 60) * minute
        undecided = state in (State.EXPIRED, State.CANCELLED)
        return created, None if undecided else created + self.rng.uniform(1, 50) * minute


def states(count: int, pending: int) -> Iterator[State]:
    """`pending` pending actions among `count`, the others in DECIDED's proportions, shuffled."""
    rng = random.Random(10)
    decided, weights = [s for s, _ in DECIDED], list(itertools.accumulate(w for _, w in DECIDED))
    for n in rng.sample(range(count), count):
        yield (
            State.PENDING_APPROVAL if n < pending else rng.choices(decided, cum_weights=weights)[0]
        )


def wide(found: Found) -> tuple[list[str], dict[int, tuple[Any, ...]]]:
    """The pattern columns (every column row_of writes but the narrow ones) and each pattern's
    values of them, JSON already text (COPY parses it)."""
    columns = [c for c in row_of(next(iter(found.values()))[0].action) if c not in NARROW]
    values = {}
    for made in found.values():
        for pattern in made:
            row = row_of(pattern.action)
            values[pattern.number] = tuple(
                json.dumps(row[c]) if c in JSON else row[c] for c in columns
            )
    return columns, values


async def seed(url: str, count: int, pending: int, now: datetime | None = None) -> Seeded:
    """Seeds `count` actions, `pending` of them pending, on the database at `url` (a role that
    may write the ops tables); the ops schema must be migrated, its policies in place."""
    started = time.perf_counter()
    db = Database.connect(url)
    try:
        async with db.transaction() as session:
            found = patterns(await policies.current(session))
    finally:
        await db.dispose()
    stamper = Stamper(found, now or datetime.now(UTC))
    votes = await asyncio.to_thread(_write, url, found, stamper, count, pending)
    return Seeded(count, pending, votes, time.perf_counter() - started)


def _write(url: str, found: Found, stamper: Stamper, count: int, pending: int) -> int:
    columns, values = wide(found)
    cast: list[tuple[Any, ...]] = []
    timers: list[tuple[Any, ...]] = []
    actions = f"ops.actions ({', '.join(NARROW)}, {', '.join(columns)})"
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"COPY {actions} FROM STDIN") as copy:
            for n, state in enumerate(states(count, pending)):
                number, row, votes = stamper.action(n, state)
                copy.write_row((*row, *values[number]))
                cast.extend(votes)
                if state is State.PENDING_APPROVAL:
                    timers.append((row[0], "expire", row[DUE]))
        _copy(conn, f"ops.votes ({VOTE_COLUMNS})", cast)
        _copy(conn, "ops.timers (action_id, kind, due_at)", timers)
        conn.commit()
        # As a table that has lived would be: its visibility map set (index-only scans), its
        # statistics current, and no autovacuum left to run while a benchmark measures.
        conn.autocommit = True
        for table in ("ops.actions", "ops.votes", "ops.timers"):
            conn.execute(f"VACUUM (ANALYZE) {table}")  # a warning, not an error, for a non-owner
    return len(cast)


def _copy(conn: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", help="a PostgreSQL URL whose role may write the ops tables")
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    args = parser.parse_args()
    done = asyncio.run(seed(args.url, args.actions, args.pending))
    print(
        f"seeded {done.actions:,} actions ({done.pending:,} pending) and {done.votes:,} votes"
        f" in {done.seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
